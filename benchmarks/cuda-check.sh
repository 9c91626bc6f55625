#!/usr/bin/env bash
# The library on a CUDA GPU: every catalogue flow held to the CPU (`nflows-bench device-check`), the three reference
# configurations timed on the GPU (`nflows-bench run --device cuda`), and a side-by-side against zuko on the same GPU
# (`zuko-match --device cuda` and benchmarks/zuko/zuko_bench.py --device cuda, alternating, ROUNDS rounds).
#
# Two steps, because the package registry serves no CUDA build of TorchSharp (neither TorchSharp-cuda-linux nor
# libtorch-cuda-12.8-linux-x64), so the GPU machine borrows libtorch's CUDA libraries from its own PyTorch:
#   bash benchmarks/cuda-check.sh pack [DIR=.gpu]
#       here (where the library builds): publishes nflows-bench framework-dependent WITHOUT libtorch's CPU libraries (TorchSharp's
#       own libLibTorchSharp.so stays), and packs it, the .NET runtime and zuko's package (from ZUKO_GIT, as zuko-compare.sh) into
#       DIR, to be copied to the GPU machine.
#   bash benchmarks/cuda-check.sh run [DIR=.gpu] [OUT=./cuda-check-out] [ROUNDS=1] [CONFIGS="nsf-coupling-8 nsf-autoregressive-8 maf-32"]
#       on the GPU machine (no .NET needed; python3 with a CUDA PyTorch and numpy): unpacks DIR, points the loader at
#       PyTorch's lib folder (LIBTORCH overrides it) and writes device-check.jsonl, run-cuda.jsonl, zuko-cuda.jsonl, ours-cuda.jsonl
#       and log.txt into OUT. Each step has its own time limit, so a failing one leaves the others' results.
# TorchSharp 0.107's libLibTorchSharp.so is built against libtorch 2.10; whether it runs against the machine's PyTorch (another
# version) is part of what `run` finds out: log.txt records the versions and any loader error.
set -uo pipefail
cd "$(dirname "$0")/.."
mode=${1:-}
dir=${2:-.gpu}

pack() {
  set -e
  local zuko_git=${ZUKO_GIT:-$(cd .. && pwd)/.mirror/probabilists+zuko/repo} zuko_ref=${ZUKO_REF:-1.6.0}
  rm -rf "$dir" && mkdir -p "$dir/app"
  dotnet publish benchmarks/NormalizingFlows.Benchmarks -c Release -r linux-x64 --self-contained false -o "$dir/publish" -v q -nologo >/dev/null
  # libtorch's CPU build (and the plotting and ONNX natives these commands do not load) stay behind.
  (cd "$dir/publish" && rm -f libtorch*.so libc10*.so libgomp*.so* libshm.so libonnxruntime*.so libSkiaSharp.so libHarfBuzzSharp.so && rm -rf runtimes)
  tar -C "$dir/publish" -cJf "$dir/app.tar.xz" .
  rm -rf "$dir/publish" "$dir/app"
  local dotnet_root; dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet)")")
  local runtime; runtime=$(ls -d "$dotnet_root"/shared/Microsoft.NETCore.App/10.* | sort -V | tail -1)
  tar -C "$dotnet_root" -cJf "$dir/dotnet.tar.xz" dotnet host "shared/Microsoft.NETCore.App/$(basename "$runtime")"
  git --git-dir="$zuko_git" archive "$(git --git-dir="$zuko_git" rev-parse --verify "$zuko_ref^{commit}")" zuko | tar -x -C "$dir"
  cp benchmarks/zuko/zuko_bench.py "$dir/"
  du -sh "$dir"/*
}

run() {
  local out=${3:-./cuda-check-out} rounds=${4:-1} configs=${5:-"nsf-coupling-8 nsf-autoregressive-8 maf-32"}
  mkdir -p "$out" /tmp/nflows-dotnet /tmp/nflows-app
  local log="$out/log.txt"
  exec > >(tee -a "$log") 2>&1
  echo "== $(date -u) on $(hostname)"
  nvidia-smi -L || true
  tar -xJf "$dir/dotnet.tar.xz" -C /tmp/nflows-dotnet
  tar -xJf "$dir/app.tar.xz" -C /tmp/nflows-app
  export DOTNET_ROOT=/tmp/nflows-dotnet PATH=/tmp/nflows-dotnet:$PATH DOTNET_CLI_TELEMETRY_OPTOUT=1
  local torch_lib=${LIBTORCH:-$(python3 -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')}
  export LD_LIBRARY_PATH=$torch_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  python3 -c 'import torch; print("PyTorch", torch.__version__, "CUDA", torch.version.cuda, torch.cuda.get_device_name(0))'
  echo "libtorch from $torch_lib; .NET $(dotnet --list-runtimes | tail -1)"
  local bench=(dotnet /tmp/nflows-app/nflows-bench.dll)

  echo "== device-check"
  timeout 150 "${bench[@]}" device-check --device cuda > "$out/device-check.jsonl"; echo "device-check exit $?"
  echo "== reference configurations on the GPU"
  # A native crash leaves a report (threads, native and managed frames) in OUT instead of only an exit code.
  export DOTNET_DbgEnableMiniDump=1 DOTNET_EnableCrashReport=1 DOTNET_DbgMiniDumpType=1 DOTNET_DbgMiniDumpName=/tmp/nflows-crash-%p.dmp
  for config in seed000 banana leaky; do
    timeout 60 "${bench[@]}" run "$config" --device cuda --threads 4 >> "$out/run-cuda.jsonl"; code=$?; echo "run $config exit $code"
    if [ "$code" -ge 128 ] && [ "$code" != 137 ]; then
      NFLOWS_FUSED=0 timeout 60 "${bench[@]}" run "$config" --device cuda --threads 4 >> "$out/run-cuda-unfused.jsonl"; echo "run $config with NFLOWS_FUSED=0 exit $?"
    fi
  done
  for report in /tmp/nflows-crash-*.crashreport.json; do [ -e "$report" ] && cp "$report" "$out/"; done
  echo "== zuko side by side on the GPU"
  for config in $configs; do
    for r in $(seq 1 "$rounds"); do
      local common=(--iterations 1000 --threads 4 --train-rows 100000 --eval 100000 --seed "$r" --device cuda)
      if [ $((r % 2)) -eq 1 ]; then
        timeout 60 "${bench[@]}" zuko-match "$config" "${common[@]}" >> "$out/ours-cuda.jsonl"; echo "ours $config exit $?"
        timeout 60 python3 "$dir/zuko_bench.py" "$config" "${common[@]}" | tail -1 >> "$out/zuko-cuda.jsonl"; echo "zuko $config exit $?"
      else
        timeout 60 python3 "$dir/zuko_bench.py" "$config" "${common[@]}" | tail -1 >> "$out/zuko-cuda.jsonl"; echo "zuko $config exit $?"
        timeout 60 "${bench[@]}" zuko-match "$config" "${common[@]}" >> "$out/ours-cuda.jsonl"; echo "ours $config exit $?"
      fi
    done
  done
  echo "== done $(date -u)"
}

case "$mode" in
  pack) pack ;;
  run) run "$@" ;;
  *) echo "usage: bash benchmarks/cuda-check.sh pack|run [DIR] ..."; exit 2 ;;
esac
