# Compiler flags policy: -Wall -Wextra everywhere, -Werror on request
# (SOFTMAXREG_WERROR, which CI sets), sanitizers on request, and a hard
# refusal of -ffast-math: the library relies on IEEE semantics (NaN checks,
# exp underflow to 0, no reassociation in the reductions).
include_guard(GLOBAL)

foreach(_v CMAKE_C_FLAGS CMAKE_C_FLAGS_RELEASE CMAKE_C_FLAGS_RELWITHDEBINFO
           CMAKE_C_FLAGS_DEBUG)
  if("${${_v}}" MATCHES "fast-math|-Ofast|ffinite-math-only")
    message(FATAL_ERROR "softmaxreg: ${_v} contains '${CMAKE_MATCH_0}'. "
      "The library needs IEEE arithmetic (NaN/Inf checks); remove it.")
  endif()
endforeach()

add_library(softmaxreg_flags INTERFACE)
target_compile_options(softmaxreg_flags INTERFACE -Wall -Wextra)
if(SOFTMAXREG_WERROR)
  target_compile_options(softmaxreg_flags INTERFACE -Werror)
endif()
if(SOFTMAXREG_SANITIZE)
  target_compile_options(softmaxreg_flags INTERFACE
    -fsanitize=address,undefined -fno-sanitize-recover=all
    -fno-omit-frame-pointer)
  target_link_options(softmaxreg_flags INTERFACE
    -fsanitize=address,undefined)
endif()
