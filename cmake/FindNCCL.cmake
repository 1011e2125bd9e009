# FindNCCL: locates NVIDIA's collective communication library.
#
# Looks, in order, in: NCCL_ROOT / NCCL_HOME (CMake or environment variables),
# LOOM_TORCH_NCCL_HINT (the NCCL that the LibTorch being used loads: a pip
# torch's nvidia-nccl wheel, whose layout ships only libnccl.so.2 with no
# unversioned link, so both names are searched), then the CUDA toolkit
# (CUDAToolkit_ROOT, CUDA_HOME, CUDA_PATH, /usr/local/cuda).
#
# Defines NCCL_FOUND, NCCL_VERSION, NCCL_INCLUDE_DIR, NCCL_LIBRARY and the
# imported target NCCL::NCCL.

# Appends the values of the CMake and environment variables named to _nccl_hints.
macro(_nccl_hints_from)
  foreach(_var ${ARGN})
    if(DEFINED ${_var})
      list(APPEND _nccl_hints "${${_var}}")
    endif()
    if(DEFINED ENV{${_var}})
      list(APPEND _nccl_hints "$ENV{${_var}}")
    endif()
  endforeach()
endmacro()

set(_nccl_hints)
_nccl_hints_from(NCCL_ROOT NCCL_HOME)
if(LOOM_TORCH_NCCL_HINT AND EXISTS "${LOOM_TORCH_NCCL_HINT}")
  get_filename_component(_nccl_torch "${LOOM_TORCH_NCCL_HINT}" REALPATH)
  list(APPEND _nccl_hints "${_nccl_torch}")
endif()
_nccl_hints_from(CUDAToolkit_ROOT CUDA_HOME CUDA_PATH)
list(APPEND _nccl_hints /usr/local/cuda)

find_path(NCCL_INCLUDE_DIR nccl.h
  HINTS ${_nccl_hints}
  PATH_SUFFIXES include)
find_library(NCCL_LIBRARY
  NAMES nccl libnccl.so.2
  NAMES_PER_DIR  # the first folder with either name wins, in the order above
  HINTS ${_nccl_hints}
  PATH_SUFFIXES lib lib64 lib/x86_64-linux-gnu)

if(NCCL_INCLUDE_DIR AND EXISTS "${NCCL_INCLUDE_DIR}/nccl.h")
  file(STRINGS "${NCCL_INCLUDE_DIR}/nccl.h" _nccl_version_lines
       REGEX "^#define NCCL_(MAJOR|MINOR|PATCH)[ \t]+[0-9]+")
  foreach(_part MAJOR MINOR PATCH)
    string(REGEX REPLACE ".*#define NCCL_${_part}[ \t]+([0-9]+).*" "\\1"
           _nccl_${_part} "${_nccl_version_lines}")
  endforeach()
  set(NCCL_VERSION "${_nccl_MAJOR}.${_nccl_MINOR}.${_nccl_PATCH}")
endif()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(NCCL
  REQUIRED_VARS NCCL_LIBRARY NCCL_INCLUDE_DIR
  VERSION_VAR NCCL_VERSION)

if(NCCL_FOUND AND NOT TARGET NCCL::NCCL)
  add_library(NCCL::NCCL UNKNOWN IMPORTED)
  set_target_properties(NCCL::NCCL PROPERTIES
    IMPORTED_LOCATION "${NCCL_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${NCCL_INCLUDE_DIR}")
endif()
mark_as_advanced(NCCL_INCLUDE_DIR NCCL_LIBRARY)
