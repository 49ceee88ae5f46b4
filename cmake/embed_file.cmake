# Turns a file into a C++ source defining `std::string_view NAME()` (namespace NAMESPACE) that
# returns the file's bytes, so the binary carries it (the web chat page: no files to install).
# usage: cmake -DIN=file -DOUT=file.cpp -DNAME=fn -DNAMESPACE=ns -P embed_file.cmake
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" n_hex)
math(EXPR n_bytes "${n_hex} / 2")
# 32 bytes a line keep the generated file readable and the compiler's lines short.
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "((0x[0-9a-f][0-9a-f],){32})" "\\1\n" bytes "${bytes}")
file(WRITE "${OUT}.tmp"
  "// Generated from ${IN} by cmake/embed_file.cmake: do not edit.\n"
  "#include <string_view>\n\n"
  "namespace ${NAMESPACE} {\n\n"
  "static const unsigned char k_${NAME}[${n_bytes} + 1] = {\n${bytes}0};\n\n"
  "std::string_view ${NAME}() { return {reinterpret_cast<const char*>(k_${NAME}), ${n_bytes}}; }\n\n"
  "}  // namespace ${NAMESPACE}\n")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.tmp")
