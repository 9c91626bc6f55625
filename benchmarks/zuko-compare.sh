#!/usr/bin/env bash
# Side-by-side comparison with zuko 1.6 on the same PyTorch (issue 19 item 4): for each configuration FLOW-FEATURES runs
# `nflows-bench zuko-match` (our flow matched layer for layer to zuko's preset) and benchmarks/zuko/zuko_bench.py (zuko's preset,
# in the Debian trixie root of ../shared/peer) alternately, ROUNDS rounds, THREADS threads each (the side that starts swaps every
# round: ours first in odd rounds, zuko first in even ones), and prints a Markdown table for docs/benchmarks.md: medians, the
# ratios zuko/ours (above 1 = ours faster) for training, log-prob of 100 000 test rows and sampling 100 000 points, both test
# NLLs (the same data on both sides: the table says so only when the two data digests agree), and the issue's targets
# (training >= 1.5x, log-prob and sampling >= 2x).
#   usage: bash benchmarks/zuko-compare.sh [ROUNDS=3] [THREADS=2] [CONFIGS="nsf-coupling-2 ... maf-32"]
#   environment: ITERATIONS (1000), EVAL (100000 test rows and samples), TRAIN_ROWS (100000), PEER_ROOT (/opt/peer-trixie),
#                EVAL_AUTOREGRESSIVE_32 (10000: the points of nsf-autoregressive-32, whose sampling takes zuko minutes per 10 000),
#                ZUKO_GIT (a git directory of probabilists/zuko; default ../.mirror/probabilists+zuko/repo), ZUKO_REF (1.6.0)
# Needs the reference root from ../shared/peer/setup.sh (run it once as root) and a git copy of zuko (the fetch tool's
# `github:probabilists/zuko`, or `git clone --bare https://github.com/probabilists/zuko`). Run it alone on the machine.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}; threads=${2:-2}
configs=${3:-"nsf-coupling-2 nsf-coupling-8 nsf-coupling-32 nsf-autoregressive-2 nsf-autoregressive-8 nsf-autoregressive-32 maf-2 maf-8 maf-32"}
iterations=${ITERATIONS:-1000}; eval_points=${EVAL:-100000}; train_rows=${TRAIN_ROWS:-100000}
root=${PEER_ROOT:-/opt/peer-trixie}
peer=$(cd .. && pwd)/shared/peer
zuko_git=${ZUKO_GIT:-$(cd .. && pwd)/.mirror/probabilists+zuko/repo}
zuko_ref=${ZUKO_REF:-1.6.0}
[ -x "$root/usr/bin/python3" ] || { echo "no reference root at $root: run 'bash $peer/setup.sh' as root first"; exit 1; }
zuko_commit=$(git --git-dir="$zuko_git" rev-parse --verify "$zuko_ref^{commit}" 2>/dev/null) \
  || { echo "no zuko $zuko_ref in $zuko_git: set ZUKO_GIT to a git directory of probabilists/zuko"; exit 1; }

# zuko is pure Python: its package goes next to the script, which puts its own folder first on sys.path.
mkdir -p "$root/peer"
rm -rf "$root/peer/zuko"
git --git-dir="$zuko_git" archive "$zuko_commit" zuko | tar -x -C "$root/peer"
cp benchmarks/zuko/zuko_bench.py "$root/peer/"
mountpoint -q "$root/proc" || mount -t proc proc "$root/proc"
zuko_version=$(chroot "$root" python3 -c "import sys; sys.path.insert(0, '/peer'); import zuko, torch; print(zuko.__version__, torch.__version__)")
echo "zuko and torch: $zuko_version; zuko commit $zuko_commit" >&2

dotnet build benchmarks/NormalizingFlows.Benchmarks -c Release -v q -nologo >/dev/null
bench=benchmarks/NormalizingFlows.Benchmarks/bin/Release/net10.0/linux-x64/nflows-bench
[ -x "$bench" ] || bench="dotnet $(ls benchmarks/NormalizingFlows.Benchmarks/bin/Release/net10.0/*/nflows-bench.dll | head -1)"
out=$(mktemp -d)
trap 'echo "stopped: raw runs and zuko'"'"'s stderr in $out" >&2' ERR
common=(--iterations "$iterations" --threads "$threads" --train-rows "$train_rows")
points() { if [ "$1" = nsf-autoregressive-32 ]; then echo "${EVAL_AUTOREGRESSIVE_32:-10000}"; else echo "$eval_points"; fi; }
ours() { $bench zuko-match "$1" "${common[@]}" --eval "$(points "$1")" --seed "$2" >> "$out/ours-$1.jsonl"; }
zuko() {
  chroot "$root" env MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=4294967296 \
    python3 /peer/zuko_bench.py "$1" "${common[@]}" --eval "$(points "$1")" --seed "$2" 2>>"$out/zuko-$1.err" | tail -1 >> "$out/zuko-$1.jsonl"
}
for config in $configs; do
  for r in $(seq 1 "$rounds"); do
    echo "round $r/$rounds: $config" >&2
    if [ $((r % 2)) -eq 1 ]; then ours "$config" "$r"; zuko "$config" "$r"; else zuko "$config" "$r"; ours "$config" "$r"; fi
  done
done
python3 - "$out" "$zuko_commit" "$zuko_version" "$threads" "$iterations" "$eval_points" $configs <<'PY'
import json, statistics, sys
out, commit, version, threads, iterations, points, configs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6], sys.argv[7:]
def load(p):
    rows = [json.loads(l) for l in open(p) if l.strip()]
    if not rows: sys.exit(f"no result in {p} (see {p.replace('.jsonl', '.err')})")
    return rows
med = lambda rows, k: statistics.median(r[k] for r in rows)
mark = lambda ratio, target: "yes" if ratio >= target else "no"
zv, tv = version.split()
print(f"zuko {zv} (commit {commit[:12]}) on torch {tv}; {threads} threads each, {iterations} Adam steps of 512 rows, "
      f"log-prob of {int(points):,} test rows and {int(points):,} samples; medians of alternating rounds; speed-up = zuko time / our time.")
print()
print("| config | rounds | train s (ours / zuko) | train speed-up | log-prob s (ours / zuko) | log-prob speed-up | sample s (ours / zuko) | sample speed-up | test NLL ours | test NLL zuko | parameters (ours / zuko) | targets 1.5x / 2x / 2x |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
for c in configs:
    o, z = load(f"{out}/ours-{c}.jsonl"), load(f"{out}/zuko-{c}.jsonl")
    digests = {r["data_sha256"] for r in o + z}
    t, tz = med(o, "train_seconds"), med(z, "train_seconds")
    l, lz = med(o, "logprob_seconds"), med(z, "logprob_seconds")
    s, sz = med(o, "sample_seconds"), med(z, "sample_seconds")
    nll = f"{med(o, 'test_nll'):.3f} | {med(z, 'test_nll'):.3f}" if len(digests) == 1 else "data differ! | data differ!"
    label = c if o[0]["eval_points"] == int(points) else f"{c} ({o[0]['eval_points']:,} points)"
    print(f"| {label} | {len(o)} | {t:.2f} / {tz:.2f} | {tz/t:.2f}x | {l:.3f} / {lz:.3f} | {lz/l:.2f}x | {s:.3f} / {sz:.3f} | {sz/s:.2f}x | "
          f"{nll} | {o[0]['parameters']} / {z[0]['parameters']} | {mark(tz/t, 1.5)} / {mark(lz/l, 2)} / {mark(sz/s, 2)} |")
print()
print("Remaining differences from zuko's presets (printed by every run of ours):")
seen = []
for c in configs:
    for d in load(f"{out}/ours-{c}.jsonl")[0]["differences"]:
        if d not in seen: seen.append(d); print(f"- {d}")
PY
echo "(raw runs in $out)" >&2
