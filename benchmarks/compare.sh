#!/usr/bin/env bash
# Side-by-side comparison with the PyTorch reference (../shared/peer/reference.py) on this machine:
# runs ours and the reference alternately (A B A B ...), ROUNDS rounds per configuration, THREADS threads each,
# and prints per configuration the medians and the ratios reference/ours (above 1 = ours faster) for training,
# log-prob and sampling time, both KLs, and our peak resident memory.
#   usage: bash benchmarks/compare.sh [ROUNDS=5] [THREADS=2] [CONFIGS="seed000 banana leaky"]
# Needs the reference root from ../shared/peer/setup.sh (run it once as root).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}; threads=${2:-2}; configs=${3:-"seed000 banana leaky"}
root=${PEER_ROOT:-/opt/peer-trixie}
peer=$(cd .. && pwd)/shared/peer
[ -x "$root/usr/bin/python3" ] || { echo "no reference root at $root: run 'bash $peer/setup.sh' as root first"; exit 1; }
mkdir -p "$root/peer" && cp "$peer/reference.py" "$root/peer/"
mountpoint -q "$root/proc" || mount -t proc proc "$root/proc"
dotnet build benchmarks/NormalizingFlows.Benchmarks -c Release -v q -nologo >/dev/null
bench=benchmarks/NormalizingFlows.Benchmarks/bin/Release/net10.0/linux-x64/nflows-bench
[ -x "$bench" ] || bench="dotnet $(ls benchmarks/NormalizingFlows.Benchmarks/bin/Release/net10.0/*/nflows-bench.dll | head -1)"
out=$(mktemp -d)
for config in $configs; do
  iterations=1000; [ "$config" = banana ] && iterations=2000
  for r in $(seq 1 "$rounds"); do
    echo "round $r/$rounds: $config" >&2
    $bench run "$config" --iterations "$iterations" --threads "$threads" --seed "$r" >> "$out/ours-$config.jsonl"
    chroot "$root" env MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=4294967296 \
      python3 /peer/reference.py "$config" --iterations "$iterations" --threads "$threads" --seed "$r" 2>/dev/null | tail -1 >> "$out/ref-$config.jsonl"
  done
done
python3 - "$out" $configs <<'PY'
import json, statistics, sys
out, configs = sys.argv[1], sys.argv[2:]
def load(p): return [json.loads(l) for l in open(p) if l.strip()]
med = lambda rows, k: statistics.median(r[k] for r in rows)
print(f"| config | rounds | train s (ours / ref) | train speed-up | log-prob s (ours / ref) | log-prob speed-up | sample s (ours / ref) | sample speed-up | KL ours | KL ref | peak RSS ours MiB |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for c in configs:
    o, r = load(f"{out}/ours-{c}.jsonl"), load(f"{out}/ref-{c}.jsonl")
    t, tr = med(o, "train_seconds"), med(r, "train_seconds")
    l, lr = med(o, "logprob_seconds"), med(r, "logprob_seconds")
    s, sr = med(o, "sample_seconds"), med(r, "sample_seconds")
    print(f"| {c} | {len(o)} | {t:.2f} / {tr:.2f} | {tr/t:.2f}x | {l:.3f} / {lr:.3f} | {lr/l:.2f}x | {s:.3f} / {sr:.3f} | {sr/s:.2f}x | "
          f"{med(o,'kl'):.4f} | {med(r,'kl'):.4f} | {med(o,'peak_rss_mib'):.0f} |")
PY
echo "(raw runs in $out)" >&2
