#!/usr/bin/env bash
# ONNX Runtime, TorchSharp and the PyTorch reference side by side (issue 20 item 5): for each reference configuration
# (seed000, banana, leaky: ../shared/peer/README.md, reference.py) runs `nflows-bench onnx-reference` (our matched flow trained as
# `nflows-bench run` trains it, as compare.sh does, then exported to ONNX; log-prob and sampling of EVAL points timed through
# TorchSharp and through ONNX Runtime with OnnxFlow, same points, same thread count) and `reference.py CONFIG` (its logprob_seconds
# and sample_seconds) alternately, ROUNDS rounds, THREADS threads each (ours first in odd rounds, the reference first in even
# ones), and prints one Markdown table for docs/benchmarks.md: median seconds of the three engines and the ratios (above 1 = the
# engine named first is slower: TorchSharp/ONNX and PyTorch/ONNX), with the largest log-prob difference between ONNX Runtime and
# TorchSharp (relative to 1 + |log q|, float32) as a parity check.
#   usage: bash benchmarks/onnx-compare.sh [ROUNDS=5] [THREADS=2] [CONFIGS="seed000 banana leaky"]
#   environment: ITERATIONS (training steps; default 1000, 2000 for banana, as compare.sh), EVAL (100000), PEER_ROOT (/opt/peer-trixie)
# Needs the reference root from ../shared/peer/setup.sh (run it once as root; mounting /proc in it needs root). Run it alone on
# the machine: the timings are worthless on a shared one.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}; threads=${2:-2}; configs=${3:-"seed000 banana leaky"}
eval_points=${EVAL:-100000}
root=${PEER_ROOT:-/opt/peer-trixie}
peer=$(cd .. && pwd)/shared/peer
[ -x "$root/usr/bin/python3" ] || { echo "no reference root at $root: run 'bash $peer/setup.sh' as root first"; exit 1; }
mkdir -p "$root/peer" && cp "$peer/reference.py" "$root/peer/"
mountpoint -q "$root/proc" || mount -t proc proc "$root/proc"
dotnet build benchmarks/NormalizingFlows.Benchmarks -c Release -v q -nologo >/dev/null
bench=benchmarks/NormalizingFlows.Benchmarks/bin/Release/net10.0/linux-x64/nflows-bench
[ -x "$bench" ] || bench="dotnet $(ls benchmarks/NormalizingFlows.Benchmarks/bin/Release/net10.0/*/nflows-bench.dll | head -1)"
out=$(mktemp -d)
trap 'echo "stopped: raw runs and the reference'"'"'s stderr in $out" >&2' ERR
for config in $configs; do
  iterations=${ITERATIONS:-$([ "$config" = banana ] && echo 2000 || echo 1000)}
  ours() { $bench onnx-reference "$config" --iterations "$iterations" --threads "$threads" --eval "$eval_points" --seed "$1" >> "$out/ours-$config.jsonl"; }
  ref() {
    chroot "$root" env MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=4294967296 \
      python3 /peer/reference.py "$config" --iterations "$iterations" --threads "$threads" --eval "$eval_points" --seed "$1" \
      2>>"$out/ref-$config.err" | tail -1 >> "$out/ref-$config.jsonl"
  }
  for r in $(seq 1 "$rounds"); do
    echo "round $r/$rounds: $config" >&2
    if [ $((r % 2)) -eq 1 ]; then ours "$r"; ref "$r"; else ref "$r"; ours "$r"; fi
  done
done
python3 - "$out" "$threads" "$eval_points" $configs <<'PY'
import json, statistics, sys
out, threads, points, configs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
def load(p):
    rows = [json.loads(l) for l in open(p) if l.strip()]
    if not rows: sys.exit(f"no result in {p} (see {p.replace('.jsonl', '.err')})")
    return rows
med = lambda rows, k: statistics.median(r[k] for r in rows)
print(f"{points} points, {threads} threads, medians of the rounds; ratios above 1: ONNX Runtime is faster.")
print()
print("| config | rounds | log-prob s ONNX / TorchSharp / PyTorch | TorchSharp/ONNX | PyTorch/ONNX | "
      "sample s ONNX / TorchSharp / PyTorch | TorchSharp/ONNX | PyTorch/ONNX | max log-prob difference ONNX vs TorchSharp | KL ours / ref |")
print("|---|---|---|---|---|---|---|---|---|---|")
for c in configs:
    o, r = load(f"{out}/ours-{c}.jsonl"), load(f"{out}/ref-{c}.jsonl")
    ol, tl, pl = med(o, "onnx_logprob_seconds"), med(o, "torch_logprob_seconds"), med(r, "logprob_seconds")
    os_, ts, ps = med(o, "onnx_sample_seconds"), med(o, "torch_sample_seconds"), med(r, "sample_seconds")
    diff = max(x["max_logprob_relative_difference"] for x in o)
    print(f"| {c} | {min(len(o), len(r))} | {ol:.3f} / {tl:.3f} / {pl:.3f} | {tl/ol:.2f}x | {pl/ol:.2f}x | "
          f"{os_:.3f} / {ts:.3f} / {ps:.3f} | {ts/os_:.2f}x | {ps/os_:.2f}x | {diff:.1e} | {med(o, 'kl'):.4f} / {med(r, 'kl'):.4f} |")
PY
echo "(raw runs in $out)" >&2
