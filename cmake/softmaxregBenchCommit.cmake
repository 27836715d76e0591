# Writes OUT (a C header) defining SMR_BENCH_COMMIT as the source tree's
# commit, with "-dirty" when the tracked files differ from it, or "unknown"
# outside a git checkout.  Run at every build by bench/CMakeLists.txt
# (cmake -P), so the benchmarks' CSV headers name the commit that was
# built, not the one at configure time; the file is rewritten only when
# its text changes, so an unchanged commit recompiles nothing.
execute_process(COMMAND git describe --always --dirty --abbrev=7
                WORKING_DIRECTORY "${SRC}" OUTPUT_VARIABLE c
                OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR c STREQUAL "")
  set(c unknown)
endif()
set(text "#define SMR_BENCH_COMMIT \"${c}\"\n")
set(old "")
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
endif()
if(NOT old STREQUAL text)
  file(WRITE "${OUT}" "${text}")
endif()
