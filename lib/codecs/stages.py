"""Stages: a general-purpose compressor over a codec's stream, flagged in the high nibble of its tag.

With `exhaustive` set the writer also tries each stream squeezed by DEFLATE or LZMA and keeps
whichever is smallest (lib/codecs/choice.py); the stage's flag is OR-ed into the codec's tag
(lib/codecs/registry.py): 0x12 is a decimal stream, deflated. Decompression always stops at
`max_stream_bytes(count)` (lib/codecs/limits.py), the most any codec needs for `count` values, so a
damaged stream cannot make a reader allocate without bound.
"""
import lzma
from collections import namedtuple

from lib.plumbing.bounded_compression import deflate, inflate, lzma_compress, lzma_decompress

Stage = namedtuple("Stage", "flag name gloss compress decompress")
ZLIB, LZMA = 0x10, 0x20  # the flags, OR-ed into either kind of codec tag

_LZMA_FILTERS = [{"id": lzma.FILTER_LZMA2, "preset": 9, "dict_size": 1 << 20}]


def _lzma_compress(data):
    return lzma_compress(data, _LZMA_FILTERS)


def _lzma_decompress(data, limit):
    return lzma_decompress(data, limit, _LZMA_FILTERS)


STAGES = {stage.flag: stage for stage in (
    Stage(ZLIB, "zlib", "then DEFLATE over the stream", deflate, inflate),
    Stage(LZMA, "lzma", "then LZMA over the stream", _lzma_compress, _lzma_decompress),
)}
