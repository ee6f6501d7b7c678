#!/usr/bin/env bash
# Runs Nabla's benchmarks and the PyTorch reference side by side, interleaved per workload, and writes BENCHMARKS.md.
#   benchmarks/run.sh           full run: waits for a quiet machine and retries disturbed attempts (as bench_torch.py)
#   benchmarks/run.sh --quick   no waiting / retrying (ANCHORS_RETRY_BUDGET_S=0): one attempt per workload, noisier
# Raw output (RESULT lines and each process's header) goes to benchmarks/results/latest.tsv.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
mode=full
case "${1:-}" in
  "") ;;
  --quick) mode=quick; export ANCHORS_RETRY_BUDGET_S=0 ;;
  *) echo "usage: $0 [--quick]" >&2; exit 2 ;;
esac

# ---- build (Release); others may be building src/Nabla at the same time: retry on an obj/file-lock collision
build_ok=0
for attempt in 1 2 3; do
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

mkdir -p "$here/results"
out="$here/results/latest.tsv"
tmp="$(mktemp)"
trap 'rm -f "$tmp"' EXIT
started="$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
{
  echo "# run.sh mode=$mode started=$started host=$(hostname)"
  echo "# torch_script=$torch_script python=$python"
} >"$tmp"

export DOTNET_gcServer=0 DOTNET_TieredPGO=1
for w in gemm mlp infer; do
  echo "== nabla $w" >&2
  echo "# == side=nabla workload=$w" >>"$tmp"
  "$nabla" "$w" | tee -a "$tmp" >&2
  if [ "$have_torch" = 1 ]; then
    echo "== torch $w" >&2
    echo "# == side=torch workload=$w" >>"$tmp"
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$python" "$torch_script" "$w" | tee -a "$tmp" >&2
  fi
done
echo "# run.sh finished=$(date -u '+%Y-%m-%d %H:%M:%S UTC')" >>"$tmp"
cp "$tmp" "$out"

"$python" "$here/report.py" "$out" "$repo/BENCHMARKS.md"
echo "wrote $repo/BENCHMARKS.md and $out" >&2
