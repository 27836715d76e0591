#!/usr/bin/env bash
# Where the solvers use the one-pass loss+gradient on column-major A
# (SMR_FUSED_COL_MAX_D): bench_kernels --case on column-major A around the
# cap, at the AVX-512 and AVX2 levels; the rows loss_grad (two passes),
# one_pass and one_pass_vs_two_pass into one CSV (docs/benchmarks.md,
# "Where the solvers use the one pass").  About 4 minutes on 2 cores.
#   bash bench/col_cap.sh [BUILD_DIR] [OUT.csv]
set -euo pipefail
build=${1:-build}
out=${2:-bench-col-cap.csv}
if [ ! -x "$build/bench/bench_kernels" ]; then
  echo "col_cap.sh: no $build/bench/bench_kernels (build it first: cmake --build $build)" >&2
  exit 2
fi
tmp=$(mktemp)
body=$(mktemp)
trap 'rm -f "$tmp" "$body"' EXIT
hdr=
for lvl in avx512 avx2; do
  # around the cap: 1000 up to stop 36, 4000 since
  for c in "10000 1200" "10000 2000" "30000 2000" "5000 4000" "10000 4000" \
           "6000 6000" "8000 8000"; do
    # shellcheck disable=SC2086
    SOFTMAXREG_SIMD=$lvl "$build"/bench/bench_kernels --layout col --case $c --csv "$tmp" >/dev/null
    # the machine and commit line of bench_kernels, without its level
    [ -n "$hdr" ] || hdr=$(head -1 "$tmp" | sed 's/;simd=[a-z0-9]*//')
    grep -E "^(loss_grad|one_pass|one_pass_vs_two_pass)," "$tmp" | sed "s/^/$lvl,/" >> "$body"
  done
done
{ echo "$hdr (bash bench/col_cap.sh; the level is the first column)"
  echo "level,kernel,layout,n,d,seconds,rate,unit,limit_seconds,ratio,fallbacks"
  cat "$body"; } > "$out"
echo "csv: $out"
