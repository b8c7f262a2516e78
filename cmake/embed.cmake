# Writes the file IN as a C++ string_view `handlers::kOpenApiJson` into OUT.
file(READ ${IN} content HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${content}")
file(WRITE ${OUT} "// Generated from handlers/openapi.json; do not edit.\n#include <string_view>\nnamespace handlers {\nstatic const unsigned char kData[] = {${bytes} 0};\nextern const std::string_view kOpenApiJson{reinterpret_cast<const char*>(kData), sizeof(kData) - 1};\n}\n")
