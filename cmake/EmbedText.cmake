# cmake -DINPUT=file -DOUTPUT=file.cpp -DSYMBOL=name -P EmbedText.cmake
# Writes `extern const char* const coach::embedded::<SYMBOL>` holding the file's bytes (as hex, so any content
# and any length is safe for the compiler).
file(READ ${INPUT} content HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," bytes "${content}")
file(WRITE ${OUTPUT} "// Generated from ${INPUT}; do not edit.\n#include <cstddef>\nnamespace coach::embedded {\nstatic const char data[] = {${bytes} '\\0'};\nextern const char* const ${SYMBOL};\nconst char* const ${SYMBOL} = data;\n}  // namespace coach::embedded\n")
