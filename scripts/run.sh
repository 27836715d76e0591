#!/usr/bin/env bash
# The README's quick start.
#   bash scripts/run.sh demo   install what is missing, build, run the demo
#   bash scripts/run.sh test   install what is missing, build, run all tests
# Environment: BUILD_DIR (default build), CMAKE_ARGS (extra configure args).
set -euo pipefail
cd "$(dirname "$0")/.."
job=${1:-demo}
case "$job" in demo|test) ;; *) echo "usage: $0 demo|test" >&2; exit 2;; esac
bash scripts/deps.sh
build=${BUILD_DIR:-build}
# shellcheck disable=SC2086
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release ${CMAKE_ARGS:-} >/dev/null
cmake --build "$build" -j"$(nproc)"
if [ "$job" = demo ]; then
  "$build"/examples/softmaxreg_demo "$build/demo"
else
  OPENBLAS_NUM_THREADS=1 ctest --test-dir "$build" --output-on-failure -j"$(nproc)"
fi
