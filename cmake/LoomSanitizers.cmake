# LOOM_SANITIZE: build Loom's code (libraries, tools, tests) with sanitizers.
#
#   -DLOOM_SANITIZE=address,undefined   AddressSanitizer, LeakSanitizer and
#                                       UndefinedBehaviorSanitizer
#   -DLOOM_SANITIZE=thread              ThreadSanitizer (alone: it cannot be
#                                       combined with address)
#
# Only what is compiled here is instrumented; LibTorch, MPI, HDF5 and the
# other libraries come prebuilt. Every finding stops the program with a
# report and a non-zero exit, so a test that meets one fails.
#
# The sanitizers' run-time options travel inside each executable
# (cmake/sanitizer_options.cpp, linked into every executable by
# loom_apply_sanitizer_options), so ctest, mpirun, SLURM and shell scripts
# all run with the same options and nobody has to remember an environment.
set(LOOM_SANITIZE "" CACHE STRING
    "Sanitizers for Loom's own code: address,undefined, address, undefined or thread (empty: none)")

set(_loom_sanitizers_known address undefined thread)
string(REPLACE "," ";" _loom_sanitizers "${LOOM_SANITIZE}")
foreach(_sanitizer IN LISTS _loom_sanitizers)
  if(NOT _sanitizer IN_LIST _loom_sanitizers_known)
    message(FATAL_ERROR
      "LOOM_SANITIZE=${LOOM_SANITIZE}: '${_sanitizer}' is not one of address, undefined, thread")
  endif()
endforeach()
if("thread" IN_LIST _loom_sanitizers AND "address" IN_LIST _loom_sanitizers)
  message(FATAL_ERROR "LOOM_SANITIZE=${LOOM_SANITIZE}: thread and address cannot be combined")
endif()

if(_loom_sanitizers)
  # -O1 keeps the instrumented build fast enough to run the suite, line
  # tables (-g1) give reports file:line without full debug info's compile
  # time, and frame pointers give them whole stacks.
  set(_loom_sanitize_flags "-fsanitize=${LOOM_SANITIZE}" -fno-omit-frame-pointer -O1 -g1)
  if("undefined" IN_LIST _loom_sanitizers)
    # Undefined behaviour is an error, not a message the test cannot see.
    list(APPEND _loom_sanitize_flags -fno-sanitize-recover=all)
  endif()
  add_compile_options("$<$<COMPILE_LANGUAGE:CXX>:${_loom_sanitize_flags}>")
  add_link_options("-fsanitize=${LOOM_SANITIZE}")
  # CUDA code is not instrumented (nvcc does not take -fsanitize).
endif()

# loom_apply_sanitizer_options(): links cmake/sanitizer_options.cpp into every
# executable defined so far, in every folder. Called once, at the end of the
# top-level CMakeLists.txt.
function(loom_apply_sanitizer_options)
  if(NOT LOOM_SANITIZE)
    return()
  endif()
  set(folders "${PROJECT_SOURCE_DIR}")
  while(folders)
    list(POP_FRONT folders folder)
    get_property(targets DIRECTORY "${folder}" PROPERTY BUILDSYSTEM_TARGETS)
    foreach(target IN LISTS targets)
      get_target_property(type ${target} TYPE)
      if(type STREQUAL "EXECUTABLE")
        target_sources(${target} PRIVATE "${PROJECT_SOURCE_DIR}/cmake/sanitizer_options.cpp")
      endif()
    endforeach()
    get_property(subfolders DIRECTORY "${folder}" PROPERTY SUBDIRECTORIES)
    list(APPEND folders ${subfolders})
  endwhile()
endfunction()
