#!/usr/bin/env bash
# Peak resident memory of `nabla train` (one epoch on the bundled sample) and `nabla eval` for every preset, measured
# with /usr/bin/time -v, written as a Markdown section to benchmarks/results/memory.md (report.py adds it to
# BENCHMARKS.md). One epoch is enough: the peak comes in the first epoch's validation and training steps.
#   benchmarks/memory.sh                 build Release and measure it
#   benchmarks/memory.sh DIR             measure the CLI built in DIR (Nabla.Cli.dll), e.g. an older build to compare
# Env: NABLA_MEMORY_THREADS (default 2), NABLA_MEMORY_PRESETS (default "mlp lenet cnn lstm").
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
threads="${NABLA_MEMORY_THREADS:-2}"
presets="${NABLA_MEMORY_PRESETS:-mlp lenet cnn lstm}"
[ -x /usr/bin/time ] || { echo "memory.sh needs /usr/bin/time (apt-get install time)" >&2; exit 1; }

cd "$repo" # the CLI finds the bundled sample from the working folder
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if [ $# -ge 1 ]; then
  bin="$1"
else
  dotnet build "$repo/src/Nabla.Cli/Nabla.Cli.csproj" -c Release -nologo -v q
  bin="$repo/src/Nabla.Cli/bin/Release/net10.0"
fi
# a private copy, so a rebuild during the run does not change what is measured
cp -r "$bin" "$work/cli"
cli="$work/cli/Nabla.Cli.dll"
[ -f "$cli" ] || { echo "no Nabla.Cli.dll in $bin" >&2; exit 1; }

# runs the CLI under /usr/bin/time -v; prints "peak_MB wall_s" and leaves its output in $work/out
measure() {
  /usr/bin/time -v -o "$work/time" dotnet "$cli" "$@" >"$work/out" 2>&1 || { cat "$work/out" >&2; exit 1; }
  local kb wall
  kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time")
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$work/time" | awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }')
  echo "$((kb / 1024)) $wall"
}

rows=""
for p in $presets; do
  echo "== $p" >&2
  read -r train_mb train_s < <(measure train --model "$p" --epochs 1 --threads "$threads" --plain --runs-dir "$work/runs" --run "$p")
  epoch_s=$(grep -oE 'samples/s +[0-9.]+ s' "$work/out" | awk '{print $2}' | head -1)
  read -r eval_mb eval_s < <(measure eval "$work/runs/$p" --threads "$threads")
  acc=$(grep -oE 'test accuracy: [0-9.]+%' "$work/out" | awk '{print $3}')
  echo "$p: train ${train_mb} MB (${train_s} s, epoch ${epoch_s} s), eval ${eval_mb} MB (${eval_s} s, ${acc})" >&2
  rows+="| $p | $train_mb | $epoch_s | $eval_mb | $eval_s |"$'\n'
done

mkdir -p "$here/results"
{
  echo "## Peak memory of the CLI"
  echo ""
  echo "Peak resident set size (/usr/bin/time -v) of \`nabla train --model M --epochs 1 --threads $threads\` on the bundled"
  echo "sample (8,000 training, 2,000 test images; the epoch includes scoring the test set) and of \`nabla eval\` on that run."
  echo "Bound: 1 GB (1,024 MB). Measured $(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) cores by \`benchmarks/memory.sh\`."
  echo ""
  echo "| preset | train peak RSS (MB) | epoch (s) | eval peak RSS (MB) | eval wall (s) |"
  echo "| --- | ---: | ---: | ---: | ---: |"
  printf '%s' "$rows"
  echo ""
} >"$here/results/memory.md"
echo "wrote $here/results/memory.md" >&2
