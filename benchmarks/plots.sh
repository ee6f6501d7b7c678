#!/usr/bin/env bash
# Plot drawing time (in-process, per chart: PNG + SVG) and file sizes: writes benchmarks/results/plots.tsv.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mkdir -p "$here/results"
dotnet run "$here/plots/PlotBench.cs" -c Release -- "$here/results/plots.tsv"
