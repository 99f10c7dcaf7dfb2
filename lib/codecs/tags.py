"""The one-byte codec tags of the METRICS! file: each block's value tag and timestamp tag say
which codec wrote its streams, and, in the high nibble, which entropy stage squeezed them after.

The numbers are part of the file format (docs/format.md lists them, and a test checks that list
against `lib.codecs.selection.CODECS`, `lib.codecs.selection.TIMESTAMP_CODECS` and
`lib.codecs.stages.STAGES`): never reuse one.
Example: 0x12 is DECIMAL | ZLIB, "a decimal stream, deflated".
"""

# Value codecs
GORILLA, DECIMAL, CONSTANT, RUNS, ORDERED, DECIMAL_PLANES = 1, 2, 3, 4, 5, 6
ORDERED_BINS, DECIMAL_BINS, DICTIONARY = 7, 8, 9
# Timestamp codecs
TIMESTAMP_GORILLA, TIMESTAMP_UNITS, TIMESTAMP_BINS = 1, 2, 3
# Entropy stages, OR-ed into either kind of tag
ZLIB, LZMA = 0x10, 0x20
CODEC_MASK, STAGE_MASK = 0x0F, 0xF0
