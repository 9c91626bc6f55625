#!/usr/bin/env bash
# Packs the library (with the Linux native fix and the native-trimming targets as buildTransitive), the NormalizingFlows.Cpu
# meta-package, the libtorch-free ONNX scorer (NormalizingFlows.Onnx), the plotting package and the nflows .NET tool into ./artifacts, then checks them the way a user meets them:
#   1. the tool, installed from its package, runs (and carries no libtorch_python);
#   2. a new console app (`dotnet new console`) that references NormalizingFlows.Cpu alone, with the README's Quick start
#      pasted verbatim as Program.cs, builds, has only this platform's native libraries in bin/ (its size is printed) and runs.
# Usage: bash scripts/pack.sh [OUTPUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-artifacts}
mkdir -p "$out"
out=$(cd "$out" && pwd)
for project in NormalizingFlows NormalizingFlows.Cpu NormalizingFlows.Onnx NormalizingFlows.Plotting NormalizingFlows.Cli; do
  dotnet pack "src/$project" -c Release -o "$out" --nologo -v quiet
done
# NuGet's global cache would otherwise hand back an earlier build of the same version.
for id in normalizingflows normalizingflows.cpu normalizingflows.onnx normalizingflows.plotting normalizingflows.cli; do
  rm -rf "${NUGET_PACKAGES:-$HOME/.nuget/packages}/$id"
done
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

echo "== the nflows tool, installed from its package"
if unzip -l "$out"/NormalizingFlows.Cli.*.nupkg | grep -q torch_python; then echo "the tool package holds libtorch_python"; exit 1; fi
dotnet tool install --tool-path "$scratch/tools" --add-source "$out" NormalizingFlows.Cli >/dev/null
"$scratch/tools/nflows" --version
"$scratch/tools/nflows" fit-target --target banana --iterations 5 --eval-samples 1000 --out "$scratch/run" >/dev/null
test -s "$scratch/run/metrics.json"

echo "== a new console app with NormalizingFlows.Cpu and the README's Quick start"
app="$scratch/QuickStart"
dotnet new console -o "$app" --framework net10.0 >/dev/null
# The packages made here come from $out only (package source mapping), everything else from the configured sources.
sources=$(cd "$app" && dotnet nuget list source | sed -nE 's/^ +[0-9]+\. +(.*) \[Enabled\]$/\1/p')
{
  echo '<?xml version="1.0" encoding="utf-8"?>'
  echo '<configuration>'
  echo "  <packageSources><add key=\"normalizingflows-local\" value=\"$out\" /></packageSources>"
  echo '  <packageSourceMapping>'
  echo '    <packageSource key="normalizingflows-local"><package pattern="NormalizingFlows" /><package pattern="NormalizingFlows.*" /></packageSource>'
  while read -r source; do
    if [ -n "$source" ]; then echo "    <packageSource key=\"$source\"><package pattern=\"*\" /></packageSource>"; fi
  done <<<"$sources"
  echo '  </packageSourceMapping>'
  echo '</configuration>'
} > "$app/nuget.config"
version=$(ls "$out"/NormalizingFlows.Cpu.*.nupkg | head -1 | sed -E 's/.*NormalizingFlows\.Cpu\.(.*)\.nupkg$/\1/')
(cd "$app" && dotnet add package NormalizingFlows.Cpu --version "$version" >"$scratch/add-package.log") || { cat "$scratch/add-package.log"; exit 1; }
awk '/^## Quick start/ { q = 1 } q && /^```csharp/ { c = 1; next } c && /^```/ { exit } c' README.md > "$app/Program.cs"
test -s "$app/Program.cs"
dotnet build "$app" -c Release --nologo -v quiet
bin="$app/bin/Release/net10.0"
echo "bin/ of the Quick start app: $(du -sh "$bin" | cut -f1) ($(find "$bin" -name '*.so' -o -name '*.dll' -o -name '*.dylib' | grep -c runtimes/ || true) files under runtimes/)"
if find "$bin" -name 'libtorch_python*' | grep -q .; then echo "libtorch_python was copied"; exit 1; fi
platforms=$(ls "$bin/runtimes")
if [ "$(echo "$platforms" | wc -l)" -ne 1 ]; then echo "native libraries of several platforms were copied:" $platforms; exit 1; fi
"$bin/QuickStart" | tee "$scratch/quickstart.txt"
grep -q "final loss" "$scratch/quickstart.txt"

ls -1 "$out"/*.nupkg
echo "packages in $out: the library, NormalizingFlows.Cpu, the plotting package and the nflows tool (the tool and a Quick start app ran from them: ok)"
