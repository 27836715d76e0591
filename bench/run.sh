#!/usr/bin/env bash
# Run every benchmark and draw the plots.
#   bash bench/run.sh quick   # < 1 minute on 2 cores: CI runs it; writes to build/bench-quick
#   bash bench/run.sh full    # the committed figures: bench/results/*.csv, docs/figures/*.png
# Needs a configured build in $BUILD_DIR (default build); gnuplot for the plots.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-quick}
build=${BUILD_DIR:-build}
case "$mode" in
  quick) out="$build/bench-quick"; flag=--quick ;;
  full)  out=bench/results; flag= ;;
  *) echo "usage: $0 quick|full" >&2; exit 2 ;;
esac
mkdir -p "$out"
cmake --build "$build" -j"$(nproc)" >/dev/null
b="$build/bench"
t0=$(date +%s)
"$b/bench_kernels" $flag --csv "$out/kernels.csv" > "$out/kernels.txt"
"$b/bench_solvers" $flag --csv "$out/solvers.csv" > "$out/solvers.txt"
"$b/bench_spsa" $flag --csv "$out/spsa.csv" > "$out/spsa.txt"
"$b/bench_scaling" $flag --csv "$out/scaling.csv" > "$out/scaling.txt"
if [ -x "$b/bench_peers" ]; then
  "$b/bench_peers" $flag --csv "$out/peers.csv" > "$out/peers.txt"
else
  echo "bench_peers not built (install libgsl-dev liblbfgs-dev); skipping peers"
fi
if [ "$mode" = full ]; then
  for d in 100 200 400; do
    "$b/bench_sketch" --d "$d" --csv "$out/sketch-d$d.csv" > "$out/sketch-d$d.txt"
  done
else
  "$b/bench_sketch" --quick --csv "$out/sketch-quick.csv" > "$out/sketch-quick.txt"
fi
echo "benchmarks ($mode) took $(( $(date +%s) - t0 )) s; CSV in $out"
if command -v gnuplot >/dev/null; then
  figs="$out"; [ "$mode" = full ] && figs=docs/figures
  mkdir -p "$figs"
  gnuplot -e "dir='$out'; out='$figs'" bench/plot.gp
  gnuplot -e "dir='$out'; out='$figs'" bench/plot_scaling.gp
  [ "$mode" = full ] && gnuplot -e "dir='$out'; out='$figs'" bench/plot_sketch.gp
  echo "plots in $figs"
fi
