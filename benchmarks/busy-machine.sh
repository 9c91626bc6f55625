#!/usr/bin/env bash
# Training speed on a busy machine, with and without idle threads that sleep. Runs `nflows demo banana` (RealNVP, batch 512)
# for ITERATIONS steps on THREADS threads, alone and beside HOGS CPU hogs (`yes > /dev/null`), under three wait policies:
#   passive  nothing set: the library's default, OMP_WAIT_POLICY=PASSIVE (idle threads sleep at once)
#   spin     GOMP_SPINCOUNT=300000: libgomp's own default (spin about 3 ms, then sleep), i.e. the behaviour before the fix
#   active   OMP_WAIT_POLICY=ACTIVE (spin for minutes)
# and prints the median training steps per second of ROUNDS rounds (policies alternate within a round).
# Meaningful only on a machine that is otherwise idle: other work on the cores is exactly what it measures. Each run also
# evaluates and draws its figures (not timed), so a round of six runs takes a few minutes on 2 cores.
#   usage: bash benchmarks/busy-machine.sh [ROUNDS=3] [ITERATIONS=200] [THREADS=nproc] [HOGS=nproc]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}; iterations=${2:-200}; threads=${3:-$(nproc)}; hogs=${4:-$(nproc)}

dotnet build src/NormalizingFlows.Cli -c Release -v q -nologo >/dev/null
tool=$(ls src/NormalizingFlows.Cli/bin/Release/net10.0/*/nflows.dll | head -1)
work=$(mktemp -d)
hog_pids=()
stop_hogs() { for pid in "${hog_pids[@]}"; do kill "$pid" 2>/dev/null || true; done; hog_pids=(); }
trap 'stop_hogs; rm -rf "$work"' EXIT

# One run: prints iterations per second from the run's metrics.json.
run() {
  local policy=$1 folder="$work/run-$RANDOM$RANDOM"
  local -a env_args=(env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT -u OMP_NUM_THREADS -u MKL_NUM_THREADS)
  case $policy in
    passive) ;;
    spin) env_args+=(GOMP_SPINCOUNT=300000) ;;
    active) env_args+=(OMP_WAIT_POLICY=ACTIVE) ;;
  esac
  "${env_args[@]}" dotnet "$tool" demo banana --iterations "$iterations" --eval-samples 1000 --threads "$threads" \
    --out "$folder" >/dev/null 2>&1
  grep -o '"iterations_per_second": *[0-9.eE+-]*' "$folder/metrics.json" | sed 's/.*: *//'
  rm -rf "$folder"
}

echo "nflows demo banana: $iterations steps, $threads threads, $rounds rounds; $(nproc) cores; hogs: $hogs" >&2
for load in idle busy; do
  for r in $(seq 1 "$rounds"); do
    if [ "$load" = busy ]; then for _ in $(seq 1 "$hogs"); do yes >/dev/null & hog_pids+=($!); done; fi
    for policy in passive spin active; do
      speed=$(run "$policy")
      echo "$load $policy $speed" >> "$work/results"
      echo "round $r/$rounds $load $policy: $speed steps/s" >&2
    done
    stop_hogs
  done
done

echo
echo "| load | passive (default) steps/s | spin (libgomp default) steps/s | active steps/s |"
echo "|---|---|---|---|"
for load in idle busy; do
  row="| $load"
  for policy in passive spin active; do
    median=$(awk -v l="$load" -v p="$policy" '$1 == l && $2 == p { print $3 }' "$work/results" | sort -g \
      | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) printf "%.1f\n", v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
    row="$row | $median"
  done
  echo "$row |"
done
