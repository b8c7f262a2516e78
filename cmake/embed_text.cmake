# Writes the file IN as a C++ std::string_view NS::NAME into OUT (data files the code ships
# inside the binary, such as speech/data/background_corpus.txt).
file(READ ${IN} content HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${content}")
file(WRITE ${OUT} "// Generated from ${IN}; do not edit.\n#include <string_view>\nnamespace ${NS} {\nstatic const unsigned char kData[] = {${bytes} 0};\nextern const std::string_view ${NAME}{reinterpret_cast<const char*>(kData), sizeof(kData) - 1};\n}\n")
