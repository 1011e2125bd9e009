# Embeds a text file (the playground page) in a C++ source file as a
# function returning it, so the binary serves it with nothing installed
# beside it. Included, this file defines loom_embed_text(); run as a script
# (cmake -P, which the build does whenever the text changes) it writes the
# source:
#
#   cmake -DINPUT=<file> -DOUTPUT=<file.cpp> -DFUNCTION=<ns::name> -DHEADER=<include>
#         -P LoomEmbedText.cmake

# Adds the generated source to `target`; FUNCTION is declared in HEADER as
# `const std::string& FUNCTION();`.
function(loom_embed_text target input function header)
  get_filename_component(name "${input}" NAME)
  set(output "${CMAKE_CURRENT_BINARY_DIR}/embedded/${name}.cpp")
  add_custom_command(
    OUTPUT "${output}"
    COMMAND "${CMAKE_COMMAND}" "-DINPUT=${input}" "-DOUTPUT=${output}"
            "-DFUNCTION=${function}" "-DHEADER=${header}"
            -P "${PROJECT_SOURCE_DIR}/cmake/LoomEmbedText.cmake"
    DEPENDS "${input}" "${PROJECT_SOURCE_DIR}/cmake/LoomEmbedText.cmake"
    COMMENT "Embedding ${name}"
    VERBATIM)
  target_sources(${target} PRIVATE "${output}")
endfunction()

if(CMAKE_SCRIPT_MODE_FILE)
  file(READ "${INPUT}" text)
  # A raw string literal holds the text as it is; its delimiter must not
  # occur in the text.
  set(delimiter "loom_embedded")
  string(FIND "${text}" ")${delimiter}\"" clash)
  if(NOT clash EQUAL -1)
    message(FATAL_ERROR "${INPUT} contains ')${delimiter}\"', which ends the raw string")
  endif()
  string(REGEX REPLACE "::[^:]*$" "" namespace "${FUNCTION}")
  string(REGEX REPLACE "^.*::" "" name "${FUNCTION}")
  # Split in pieces of 8 KiB: compilers limit the length of one literal
  # (MSVC to 16 KiB); adjacent literals are joined.
  string(LENGTH "${text}" length)
  set(pieces "")
  set(offset 0)
  while(offset LESS length)
    string(SUBSTRING "${text}" ${offset} 8192 piece)
    string(APPEND pieces "R\"${delimiter}(${piece})${delimiter}\"\n")
    math(EXPR offset "${offset} + 8192")
  endwhile()
  file(WRITE "${OUTPUT}.tmp"
       "// Generated from ${INPUT} by LoomEmbedText.cmake; edit that file.\n"
       "#include \"${HEADER}\"\n\n"
       "namespace ${namespace} {\n\n"
       "const std::string& ${name}() {\n"
       "  static const std::string text =\n${pieces};\n"
       "  return text;\n"
       "}\n\n"
       "}  // namespace ${namespace}\n")
  file(RENAME "${OUTPUT}.tmp" "${OUTPUT}")
endif()
