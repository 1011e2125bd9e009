# One precompiled <torch/torch.h>, shared by every target that uses LibTorch.
#
# Parsing LibTorch's headers is most of the time a Loom translation unit
# takes to compile, and every target that links LibTorch includes them. The
# header is compiled once, in loom_torch_pch, and reused by the others
# (REUSE_FROM), which works because Loom's targets share one set of compile
# flags. Turn it off with -DLOOM_PCH=OFF (for include-what-you-use checks,
# say): the code does not depend on it.
option(LOOM_PCH "Precompile <torch/torch.h> once and reuse it in every target that uses LibTorch" ON)

if(LOOM_PCH)
  # ccache caches a compile that includes a precompiled header only when told
  # that the header's defines and time stamps may be trusted. Paths below the
  # checkout count as relative, so a fresh clone in another folder (as CI
  # makes) finds what an earlier one compiled, the header included.
  if(LOOM_CCACHE)
    set(CMAKE_CXX_COMPILER_LAUNCHER
        "${CMAKE_COMMAND}" -E env
        "CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime"
        "CCACHE_BASEDIR=${PROJECT_SOURCE_DIR}"
        "${LOOM_CCACHE}")
  endif()
  add_library(loom_torch_pch OBJECT "${CMAKE_CURRENT_LIST_DIR}/torch_pch.cpp")
  target_link_libraries(loom_torch_pch PRIVATE ${TORCH_LIBRARIES})
  target_precompile_headers(loom_torch_pch PRIVATE <torch/torch.h>)
  loom_strict_warnings(loom_torch_pch)
endif()

# Whether `target` links LibTorch, directly or through the targets it links.
function(_loom_links_torch target out_var)
  set(seen "")
  set(queue "${target}")
  while(queue)
    list(POP_FRONT queue item)
    # A static library's private dependency shows as $<LINK_ONLY:name>.
    string(REGEX REPLACE "^\\$<LINK_ONLY:(.*)>$" "\\1" item "${item}")
    if(item IN_LIST seen OR NOT TARGET "${item}")
      continue()
    endif()
    list(APPEND seen "${item}")
    if(item STREQUAL "torch")
      set(${out_var} TRUE PARENT_SCOPE)
      return()
    endif()
    get_target_property(type "${item}" TYPE)
    set(properties INTERFACE_LINK_LIBRARIES)
    get_target_property(imported "${item}" IMPORTED)
    if(NOT imported AND NOT type STREQUAL "INTERFACE_LIBRARY")
      list(APPEND properties LINK_LIBRARIES)
    endif()
    foreach(property IN LISTS properties)
      get_target_property(links "${item}" ${property})
      if(links)
        list(APPEND queue ${links})
      endif()
    endforeach()
  endwhile()
  set(${out_var} FALSE PARENT_SCOPE)
endfunction()

# loom_use_torch_pch(TARGET): compile TARGET with the shared precompiled header
# when it links LibTorch. Call it after the target's target_link_libraries().
function(loom_use_torch_pch target)
  if(NOT LOOM_PCH)
    return()
  endif()
  _loom_links_torch("${target}" links_torch)
  if(links_torch)
    target_precompile_headers("${target}" REUSE_FROM loom_torch_pch)
  endif()
endfunction()
