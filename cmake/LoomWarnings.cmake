# loom_strict_warnings(TARGET): the warning set for Loom's own targets, as
# errors unless LOOM_WERROR is OFF. Third-party headers come in as system
# includes and are not held to it.
function(loom_strict_warnings target)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
      -Woverloaded-virtual -Wcast-align -Wformat=2 -Wimplicit-fallthrough>)
  if(LOOM_WERROR)
    target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-Werror>)
  endif()
endfunction()
