# Embeds one text file as a NUL-terminated C string: const char SYMBOL[] = {...};
# Invoked as: cmake -DIN=file -DOUT=file.c -DSYMBOL=name -P embed_file.cmake
file(READ ${IN} hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," hex "${hex}")
file(WRITE ${OUT} "/* Generated from ${IN} by cmake/embed_file.cmake. Do not edit. */\nconst char ${SYMBOL}[] = {${hex} 0};\n")
