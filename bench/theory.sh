#!/usr/bin/env bash
# The papers' claims as experiments (docs/theory.md), one command.
#   bash bench/theory.sh quick   # seconds; CI runs it: writes to build/theory-quick
#   bash bench/theory.sh full    # the committed figures: bench/results/theory, docs/figures
# Needs a configured build in $BUILD_DIR (default build); gnuplot for the plots.
# Exits non-zero when a checked claim fails (bench_theory's status).
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-quick}
build=${BUILD_DIR:-build}
case "$mode" in
  quick) out="$build/theory-quick"; flag=--quick; figs="$out"; sk=(--quick) ;;
  full)  out=bench/results/theory; flag=; figs=docs/figures; sk=(--d 100) ;;
  *) echo "usage: $0 quick|full" >&2; exit 2 ;;
esac
mkdir -p "$out" "$figs"
cmake --build "$build" -j"$(nproc)" --target bench_theory bench_sketch >/dev/null
t0=$(date +%s)
status=0
"$build/bench/bench_theory" $flag --out "$out" || status=$?
# claim 4's time against n: sketched and exact Newton iterations
"$build/bench/bench_sketch" "${sk[@]}" --csv "$out/sketch-time.csv" > "$out/sketch-time.txt"
echo "theory experiments ($mode) took $(( $(date +%s) - t0 )) s; CSV and summary.txt in $out"
if command -v gnuplot >/dev/null; then
  gnuplot -e "dir='$out'; out='$figs'" bench/plot_theory.gp 2>"$out/gnuplot.log" \
    || { cat "$out/gnuplot.log"; exit 1; }
  rm -f "$out/gnuplot.log"
  echo "plots in $figs/theory-*.png"
fi
exit "$status"
