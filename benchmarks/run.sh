#!/usr/bin/env bash
# Runs Nabla's benchmarks and the PyTorch reference side by side, interleaved per workload, and writes BENCHMARKS.md.
#   benchmarks/run.sh           full run: waits for a quiet machine and retries disturbed attempts (as bench_torch.py)
#   benchmarks/run.sh --quick   no waiting / retrying (ANCHORS_RETRY_BUDGET_S=0): one attempt per workload, noisier
#   benchmarks/run.sh --core    the side-by-side workloads only: BENCHMARKS.md keeps its last memory and NativeAOT sections
# Env: ANCHORS_RETRY_BUDGET_S (seconds of quiet-machine waiting/retrying per process, both sides; default 45),
#      NABLA_BENCH_SKIP_BUILD=1 (run the last built binary without rebuilding).
# Raw output (RESULT lines and each process's header) goes to benchmarks/results/latest.tsv.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
mode=full
core=0
for arg in "$@"; do
  case "$arg" in
    --quick) mode=quick; export ANCHORS_RETRY_BUDGET_S=0 ;;
    --core) core=1 ;;
    *) echo "usage: $0 [--quick] [--core]" >&2; exit 2 ;;
  esac
done

# ---- build (Release); others may be building src/Nabla at the same time: retry on an obj/file-lock collision.
# NABLA_BENCH_SKIP_BUILD=1 reuses the last built binary (e.g. while src/ is mid-edit and does not compile).
build_ok=0
[ "${NABLA_BENCH_SKIP_BUILD:-0}" = 1 ] && build_ok=1
for attempt in 1 2 3; do
  [ "$build_ok" = 1 ] && break
  if dotnet build "$here/Nabla.Benchmarks/Nabla.Benchmarks.csproj" -c Release -nologo -v q; then build_ok=1; break; fi
  echo "build attempt $attempt failed; retrying in 5 s" >&2
  sleep 5
done
[ "$build_ok" = 1 ] || { echo "build failed" >&2; exit 1; }
nabla="$here/Nabla.Benchmarks/bin/Release/net10.0/Nabla.Benchmarks"
[ -x "$nabla" ] || { echo "missing $nabla" >&2; exit 1; }

# ---- the PyTorch reference: shared/bench if present, else the repository's verbatim copy
torch_script="$repo/../shared/bench/bench_torch.py"
[ -f "$torch_script" ] || torch_script="$here/bench_torch.py"
python=/usr/bin/python3
[ -x "$python" ] || python="$(command -v python3)"
have_torch=1
if ! env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$python" -c "import torch" 2>/dev/null; then
  echo "warning: $python cannot import torch; PyTorch columns will be empty" >&2
  have_torch=0
fi

# Debian's python3-torch links libblas.so.3: without libopenblas0-pthread that is the reference BLAS, ~100x slower
# (2026-12-05: torch.mm at 3 GFLOP/s), which would make every PyTorch column meaningless
if [ "$have_torch" = 1 ] && ! ldconfig -p 2>/dev/null | grep -c 'openblas' >/dev/null; then
  echo "error: PyTorch would run on the reference BLAS: apt-get install libopenblas0-pthread first" >&2
  exit 1
fi

mkdir -p "$here/results"
out="$here/results/latest.tsv"
tmp="$(mktemp)"
trap 'rm -f "$tmp"' EXIT
started="$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
{
  echo "# run.sh mode=$mode started=$started host=$(hostname) skip_build=${NABLA_BENCH_SKIP_BUILD:-0} retry_budget_s=${ANCHORS_RETRY_BUDGET_S:-45}"
  echo "# torch_script=$torch_script python=$python"
} >"$tmp"

export DOTNET_gcServer=0 DOTNET_TieredPGO=1
for w in gemm mlp infer lenet lstm; do
  echo "== nabla $w" >&2
  echo "# == side=nabla workload=$w" >>"$tmp"
  "$nabla" "$w" | tee -a "$tmp" >&2
  if [ "$have_torch" = 1 ]; then
    echo "== torch $w" >&2
    echo "# == side=torch workload=$w" >>"$tmp"
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$python" "$torch_script" "$w" | tee -a "$tmp" >&2
  fi
done
# layer workloads: Nabla.Benchmarks WORKLOAD side by side with benchmarks/bench_torch_layers.py WORKLOAD
layers_script="$here/bench_torch_layers.py"
for w in norm conv cnnbn transformer; do
  echo "== nabla $w" >&2
  echo "# == side=nabla workload=$w" >>"$tmp"
  "$nabla" "$w" | tee -a "$tmp" >&2
  if [ "$have_torch" = 1 ]; then
    echo "== torch $w" >&2
    echo "# == side=torch workload=$w" >>"$tmp"
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$python" "$layers_script" "$w" | tee -a "$tmp" >&2
  fi
done
# the same CPU restricted to AVX2, both sides: Nabla's narrow kernels, PyTorch's avx2 kernels and OpenBLAS's Haswell ones
if grep -q avx512f /proc/cpuinfo 2>/dev/null; then
  for w in gemm mlp lenet conv; do
    echo "== nabla (AVX2) $w" >&2
    echo "# == side=nabla_avx2 workload=$w" >>"$tmp"
    DOTNET_EnableAVX512=0 "$nabla" "$w" | tee -a "$tmp" >&2
    if [ "$have_torch" = 1 ]; then
      echo "== torch (AVX2) $w" >&2
      echo "# == side=torch_avx2 workload=$w" >>"$tmp"
      script="$torch_script"
      [ "$w" = conv ] && script="$layers_script"
      env -u OPENBLAS_L2_SIZE OPENBLAS_CORETYPE=Haswell ATEN_CPU_CAPABILITY=avx2 "$python" "$script" "$w" | tee -a "$tmp" >&2
    fi
  done
fi
# diagnostics beside the timed workloads: what bounds them (report.py's targets section)
for w in bounds inferparts lenet lstm cnnbn; do
  echo "== nabla (diagnostics) $w" >&2
  echo "# == side=diag workload=$w" >>"$tmp"
  NABLA_BENCH_PROFILE=1 "$nabla" "$w" | tee -a "$tmp" >&2
done
echo "== plots" >&2
"$here/plots.sh" >&2
echo "# run.sh finished=$(date -u '+%Y-%m-%d %H:%M:%S UTC')" >>"$tmp"
cp "$tmp" "$out" && chmod 644 "$out"

if [ "$core" = 0 ]; then
  # peak memory of the CLI per preset (writes results/memory.md, a section of the report)
  "$here/memory.sh" || echo "warning: benchmarks/memory.sh failed; BENCHMARKS.md keeps the last memory section" >&2
  # the NativeAOT binary against the JIT build (publishes both; writes results/aot.md, a section of the report)
  "$python" "$here/aot.py" || echo "warning: benchmarks/aot.py failed; BENCHMARKS.md keeps the last NativeAOT section" >&2
fi

"$python" "$here/report.py" "$out" "$repo/BENCHMARKS.md"
echo "wrote $repo/BENCHMARKS.md and $out" >&2
