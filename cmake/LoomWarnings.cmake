# loom_strict_warnings(TARGET): the warning set for Loom's own targets, as
# errors unless LOOM_WERROR is OFF. Third-party headers come in as system
# includes and are not held to it.
function(loom_strict_warnings target)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
      -Woverloaded-virtual -Wcast-align -Wformat=2 -Wimplicit-fallthrough>)
  if(LOOM_SANITIZE AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # GCC's flow analysis sees through the sanitizers' instrumentation and
    # reports uninitialised reads that are not there (in LibTorch's
    # c10::optional, at -O1); the plain build keeps the warning.
    target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-Wno-maybe-uninitialized>)
  endif()
  if(LOOM_WERROR)
    target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-Werror>)
  endif()
endfunction()
