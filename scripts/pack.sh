#!/usr/bin/env bash
# Packs the library (NuGet package with the Linux native fix as buildTransitive targets) and the nflows .NET tool into
# ./artifacts, installs the tool from there into a scratch folder and runs it once: the packages a user would get work.
# Usage: bash scripts/pack.sh [OUTPUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-artifacts}
mkdir -p "$out"
dotnet pack src/NormalizingFlows -c Release -o "$out" --nologo -v quiet
dotnet pack src/NormalizingFlows.Cli -c Release -o "$out" --nologo -v quiet
# NuGet's global cache would otherwise hand back an earlier build of the same version.
rm -rf "${NUGET_PACKAGES:-$HOME/.nuget/packages}/normalizingflows.cli"
tools=$(mktemp -d)
trap 'rm -rf "$tools"' EXIT
dotnet tool install --tool-path "$tools" --add-source "$out" NormalizingFlows.Cli >/dev/null
"$tools/nflows" --version
"$tools/nflows" fit-target --target banana --iterations 5 --eval-samples 1000 --out "$tools/run" >/dev/null
test -s "$tools/run/metrics.json"
ls -1 "$out"/*.nupkg
echo "packages in $out: the library and the nflows tool (installed and run from the package: ok)"
