# The git commit a binary reports: the short hash of HEAD, with "-dirty" when
# tracked files differ from it, or "unknown" outside a git checkout.
#
# Read at build time, not at configure time, or `loom --version` would name
# whatever commit was checked out when CMake last ran. Included, this file
# defines loom_git_commit() and loom_add_git_commit_header(); run as a script
# (cmake -P, which the build does on every build) it writes the header:
#
#   cmake -DSOURCE_DIR=<checkout> -DGIT_EXECUTABLE=<git or empty>
#         -DOUTPUT=<header> -P LoomGitCommit.cmake
#
# The header is rewritten only when the text changes, so an unchanged commit
# recompiles nothing.

# Sets `out_var` to the commit of the checkout at `source_dir`.
function(loom_git_commit source_dir git out_var)
  set(commit "unknown")
  # Only the checkout itself counts: a source tree unpacked inside some other
  # repository must not report that repository's commit.
  if(git AND EXISTS "${source_dir}/.git")
    execute_process(
      COMMAND "${git}" rev-parse --short=10 HEAD
      WORKING_DIRECTORY "${source_dir}"
      RESULT_VARIABLE failed
      OUTPUT_VARIABLE hash
      OUTPUT_STRIP_TRAILING_WHITESPACE
      ERROR_QUIET)
    if(NOT failed AND hash)
      set(commit "${hash}")
      # --no-optional-locks: a build must not take the index lock that a
      # git command run meanwhile in the same checkout needs.
      execute_process(
        COMMAND "${git}" --no-optional-locks status --porcelain --untracked-files=no
        WORKING_DIRECTORY "${source_dir}"
        RESULT_VARIABLE failed
        OUTPUT_VARIABLE changes
        ERROR_QUIET)
      if(failed OR changes)
        string(APPEND commit "-dirty")
      endif()
    endif()
  endif()
  set(${out_var} "${commit}" PARENT_SCOPE)
endfunction()

if(CMAKE_SCRIPT_MODE_FILE)
  if(NOT OUTPUT)
    message(FATAL_ERROR "LoomGitCommit.cmake: give -DOUTPUT=<header to write>")
  endif()
  loom_git_commit("${SOURCE_DIR}" "${GIT_EXECUTABLE}" commit)
  string(CONCAT text
    "// Generated at build time by cmake/LoomGitCommit.cmake. Do not edit.\n"
    "#pragma once\n"
    "\n"
    "#define LOOM_GIT_COMMIT \"${commit}\"\n")
  set(old_text "")
  if(EXISTS "${OUTPUT}")
    file(READ "${OUTPUT}" old_text)
  endif()
  if(NOT old_text STREQUAL text)
    file(WRITE "${OUTPUT}" "${text}")
  endif()
  return()
endif()

find_package(Git QUIET)

# Gives `target` a private header "git_commit.hpp" defining LOOM_GIT_COMMIT,
# brought up to date before the target compiles on every build.
function(loom_add_git_commit_header target)
  set(folder "${CMAKE_CURRENT_BINARY_DIR}/${target}_git_commit")
  set(header "${folder}/git_commit.hpp")
  add_custom_target(${target}_git_commit
    COMMAND "${CMAKE_COMMAND}" "-DSOURCE_DIR=${PROJECT_SOURCE_DIR}"
            "-DGIT_EXECUTABLE=${GIT_EXECUTABLE}" "-DOUTPUT=${header}"
            -P "${CMAKE_CURRENT_FUNCTION_LIST_FILE}"
    BYPRODUCTS "${header}"
    VERBATIM)
  add_dependencies(${target} ${target}_git_commit)
  target_include_directories(${target} PRIVATE "${folder}")
endfunction()
