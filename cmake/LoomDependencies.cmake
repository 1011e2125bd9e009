# Finds every library Loom builds against and decides which backends are on.
# Sets LOOM_WITH_CUDA and LOOM_WITH_NCCL (0/1) for build_info.hpp and the summary.

# LibTorch: Debian's libtorch-dev by default; a pip torch or a LibTorch zip
# through CMAKE_PREFIX_PATH.
#
# LibTorch's config looks for its c10 with find_library(... PATHS <its lib>),
# which searches the system's folders first: on a machine that also has
# Debian's libtorch-dev (CI builds both), a pip LibTorch would link Debian's
# libc10.so as well, and a program whose first use of c10 came after it
# loaded both (seen: an INTERNAL ASSERT in c10's DispatchKeySet before main).
# The LibTorch's own c10 is named up front.
foreach(_prefix IN LISTS CMAKE_PREFIX_PATH)
  set(_torch_lib "")
  if(EXISTS "${_prefix}/Torch/TorchConfig.cmake")  # torch.utils.cmake_prefix_path
    get_filename_component(_torch_lib "${_prefix}/../../lib" ABSOLUTE)
  elseif(EXISTS "${_prefix}/share/cmake/Torch/TorchConfig.cmake")  # a LibTorch zip
    set(_torch_lib "${_prefix}/lib")
  endif()
  if(_torch_lib)
    if(c10_LIBRARY AND NOT c10_LIBRARY MATCHES "^${_torch_lib}/")
      unset(c10_LIBRARY CACHE)
    endif()
    find_library(c10_LIBRARY c10 PATHS "${_torch_lib}" NO_DEFAULT_PATH)
    break()
  endif()
endforeach()
find_package(Torch REQUIRED)
# A CUDA LibTorch exports the c10_cuda target. TORCH_CUDA_LIBRARIES is no
# test: in 2.x it can end in a -NOTFOUND entry (no separate NVRTC library),
# which makes if() false for a Torch that does have CUDA.
set(LOOM_TORCH_HAS_CUDA OFF)
if(TARGET c10_cuda)
  set(LOOM_TORCH_HAS_CUDA ON)
endif()
# LibTorch's headers need C++20 from 2.14 on (ATen.h stops with an #error
# under C++17); 1.13 to 2.13 build as C++17.
if(Torch_VERSION VERSION_GREATER_EQUAL 2.14)
  set(CMAKE_CXX_STANDARD 20)
endif()
# Where this LibTorch's own libraries are, to find the NCCL and Gloo it uses.
find_library(LOOM_TORCH_CPU_LIBRARY torch_cpu HINTS "${TORCH_INSTALL_PREFIX}/lib" REQUIRED)
mark_as_advanced(LOOM_TORCH_CPU_LIBRARY)
# pip's LibTorch exports the copy of libstdc++'s std::filesystem it links
# statically (pytorch issue 133437). In a program that loads libtorch before
# libstdc++ those definitions win, and they crash (remove_all jumps to
# address 0). Every Loom program and library therefore needs libstdc++ first,
# which makes each std:: symbol the system's.
execute_process(COMMAND "${CMAKE_NM}" -D --defined-only "${LOOM_TORCH_CPU_LIBRARY}"
                OUTPUT_VARIABLE _torch_cpu_symbols ERROR_QUIET)
if(_torch_cpu_symbols MATCHES " T _ZNSt10filesystem")
  add_link_options("LINKER:--push-state,--no-as-needed" -lstdc++ "LINKER:--pop-state")
endif()

# The library's own version line ("Open MPI v4.1.4") is for the summary; FindMPI
# reads it only when asked.
set(MPI_DETERMINE_LIBRARY_VERSION TRUE)
find_package(MPI REQUIRED COMPONENTS C CXX)

if(LOOM_PARALLEL_HDF5)
  set(HDF5_PREFER_PARALLEL TRUE)
endif()
find_package(HDF5 REQUIRED COMPONENTS C)

find_package(yaml-cpp REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(ZLIB REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(SentencePiece REQUIRED IMPORTED_TARGET sentencepiece)
pkg_check_modules(Zstd REQUIRED IMPORTED_TARGET libzstd)
pkg_check_modules(Utf8proc REQUIRED IMPORTED_TARGET libutf8proc)
# Debian's cpp-httplib is a compiled library (with OpenSSL, zlib and brotli
# support); its pkg-config file carries the defines its header must see.
pkg_check_modules(Httplib REQUIRED IMPORTED_TARGET cpp-httplib)
find_package(CLI11 REQUIRED)
find_package(fmt REQUIRED)
# A pip LibTorch carries fmt headers of its own (fmt 12 in 2.11) in its
# include folder, which the compiler searches before /usr/include, where
# Debian's fmt 9 is: Loom's `#include <fmt/format.h>` would read one fmt and
# link the other. A folder holding only a link to the fmt found above is put
# ahead of every other include folder.
get_target_property(_loom_fmt_include fmt::fmt INTERFACE_INCLUDE_DIRECTORIES)
if(NOT _loom_fmt_include)
  set(_loom_fmt_include /usr/include)
endif()
list(GET _loom_fmt_include 0 _loom_fmt_include)
foreach(_torch_include IN LISTS TORCH_INCLUDE_DIRS)
  if(EXISTS "${_torch_include}/fmt" AND NOT _torch_include STREQUAL _loom_fmt_include)
    set(LOOM_FMT_FIRST_DIR "${PROJECT_BINARY_DIR}/fmt-first")
    file(MAKE_DIRECTORY "${LOOM_FMT_FIRST_DIR}")
    file(CREATE_LINK "${_loom_fmt_include}/fmt" "${LOOM_FMT_FIRST_DIR}/fmt" SYMBOLIC)
    include_directories(BEFORE SYSTEM "${LOOM_FMT_FIRST_DIR}")
    break()
  endif()
endforeach()
find_package(Threads REQUIRED)

# CUDA paths are compiled only when the Torch we link was built with CUDA:
# a CUDA kernel next to a CPU-only Torch would have no tensors to work on.
set(LOOM_WITH_CUDA 0)
set(LOOM_WITH_NCCL 0)
set(LOOM_CUDA_NOTE "")
# Any case is accepted (-DLOOM_CUDA=on); anything else is a mistake, which
# must not quietly mean AUTO.
string(TOUPPER "${LOOM_CUDA}" _loom_cuda)
if(NOT _loom_cuda MATCHES "^(AUTO|ON|OFF)$")
  message(FATAL_ERROR "LOOM_CUDA='${LOOM_CUDA}': expected AUTO, ON or OFF (in any case)")
endif()
if(_loom_cuda STREQUAL "OFF")
  set(LOOM_CUDA_NOTE "disabled by LOOM_CUDA=OFF")
elseif(NOT LOOM_TORCH_HAS_CUDA)
  if(_loom_cuda STREQUAL "ON")
    message(FATAL_ERROR "LOOM_CUDA=ON but the Torch found at ${Torch_DIR} was built without CUDA. "
                        "Point CMAKE_PREFIX_PATH at a CUDA LibTorch, or use LOOM_CUDA=AUTO.")
  endif()
  set(LOOM_CUDA_NOTE "the Torch found has no CUDA")
else()
  find_package(CUDAToolkit REQUIRED)
  set(LOOM_WITH_CUDA 1)
endif()

# NCCL is looked for in any case so the summary can say where it is; it is
# used only together with CUDA.
# A pip LibTorch loads the NCCL of its nvidia-nccl wheel (through its RPATH);
# Loom must link that one, not /usr/local/cuda's, or one process holds two.
set(LOOM_TORCH_NCCL_HINT "${TORCH_INSTALL_PREFIX}/../nvidia/nccl")
find_package(NCCL QUIET)
if(NCCL_FOUND AND LOOM_WITH_CUDA)
  set(LOOM_WITH_NCCL 1)
endif()
# The NCCL communicator itself needs only nccl.h and the CUDA runtime, so it
# is compiled and linked (and its no-GPU test run) wherever both are found,
# also beside a CPU-only LibTorch: CI keeps it building.
set(LOOM_BUILD_NCCL_COMM OFF)
if(NCCL_FOUND AND NOT _loom_cuda STREQUAL "OFF")
  if(NOT CUDAToolkit_FOUND)
    find_package(CUDAToolkit QUIET)
  endif()
  if(CUDAToolkit_FOUND)
    set(LOOM_BUILD_NCCL_COMM ON)
  endif()
endif()

# Version strings for build_info.hpp and `loom --version`.
set(LOOM_TORCH_VERSION "${Torch_VERSION}")
if(NOT LOOM_TORCH_VERSION)
  set(LOOM_TORCH_VERSION "unknown")
endif()
set(LOOM_NCCL_VERSION "${NCCL_VERSION}")
set(LOOM_CUDA_VERSION "${CUDAToolkit_VERSION}")

# The commit for the summary; `loom --version` reads it again at build time.
include(LoomGitCommit)
loom_git_commit("${CMAKE_CURRENT_SOURCE_DIR}" "${GIT_EXECUTABLE}" LOOM_GIT_COMMIT)
