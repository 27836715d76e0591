# softmaxregDependencies.cmake -- find OpenBLAS (CBLAS interface) and LAPACKE
# and define the imported targets softmaxreg::openblas and softmaxreg::lapacke.
#
# Used by the build (CMakeLists.txt) and installed beside softmaxregConfig.cmake
# so that find_package(softmaxreg CONFIG) carries the dependency along.
# Each missing piece stops with the Debian package that provides it.
#
# Why hand-written instead of CMake's FindBLAS/FindLAPACK: those find the
# Fortran BLAS/LAPACK libraries but neither the CBLAS header nor LAPACKE, and
# Debian's cblas.h is an alternative that may point to the netlib header,
# which lacks openblas_set_num_threads().  We look for OpenBLAS's own header
# directory (the one holding openblas_config.h) first.

include_guard(GLOBAL)

if(NOT TARGET softmaxreg::openblas)
  set(_smr_arch_inc /usr/include)
  if(CMAKE_LIBRARY_ARCHITECTURE)
    list(PREPEND _smr_arch_inc /usr/include/${CMAKE_LIBRARY_ARCHITECTURE})
  endif()
  find_path(SOFTMAXREG_OPENBLAS_INCLUDE_DIR
    NAMES openblas_config.h
    HINTS ${_smr_arch_inc}
    PATH_SUFFIXES openblas-pthread openblas-openmp openblas-serial openblas
    DOC "directory of OpenBLAS's cblas.h and openblas_config.h")
  find_library(SOFTMAXREG_OPENBLAS_LIBRARY
    NAMES openblas
    DOC "the OpenBLAS library")
  if(NOT SOFTMAXREG_OPENBLAS_INCLUDE_DIR OR NOT SOFTMAXREG_OPENBLAS_LIBRARY
     OR NOT EXISTS "${SOFTMAXREG_OPENBLAS_INCLUDE_DIR}/cblas.h")
    message(FATAL_ERROR
      "softmaxreg: OpenBLAS with its CBLAS header was not found "
      "(header: ${SOFTMAXREG_OPENBLAS_INCLUDE_DIR}, library: "
      "${SOFTMAXREG_OPENBLAS_LIBRARY}). On Debian/Ubuntu install it with: "
      "apt-get install libopenblas-dev")
  endif()
  add_library(softmaxreg::openblas UNKNOWN IMPORTED)
  set_target_properties(softmaxreg::openblas PROPERTIES
    IMPORTED_LOCATION "${SOFTMAXREG_OPENBLAS_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${SOFTMAXREG_OPENBLAS_INCLUDE_DIR}")
endif()

if(NOT TARGET softmaxreg::lapacke)
  find_path(SOFTMAXREG_LAPACKE_INCLUDE_DIR NAMES lapacke.h
    DOC "directory of lapacke.h")
  find_library(SOFTMAXREG_LAPACKE_LIBRARY NAMES lapacke
    DOC "the LAPACKE library")
  if(NOT SOFTMAXREG_LAPACKE_INCLUDE_DIR OR NOT SOFTMAXREG_LAPACKE_LIBRARY)
    message(FATAL_ERROR
      "softmaxreg: LAPACKE (the C interface to LAPACK) was not found. "
      "On Debian/Ubuntu install it with: apt-get install liblapacke-dev")
  endif()
  add_library(softmaxreg::lapacke UNKNOWN IMPORTED)
  set_target_properties(softmaxreg::lapacke PROPERTIES
    IMPORTED_LOCATION "${SOFTMAXREG_LAPACKE_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${SOFTMAXREG_LAPACKE_INCLUDE_DIR}"
    INTERFACE_LINK_LIBRARIES "softmaxreg::openblas;m")
endif()
