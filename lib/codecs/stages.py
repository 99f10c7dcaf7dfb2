"""The optional entropy stage: a general-purpose compressor over a codec's stream, and the helpers
the value and timestamp choices share (the smallest candidate, candidates with every stage).

With `entropy` set the writer also tries each classic stream squeezed by DEFLATE or LZMA and keeps
whichever is smallest; the stage's flag is OR-ed into the codec tag (lib/codecs/tags.py).
Decompression always stops at `max_stream_bytes(count)` (lib/codecs/limits.py), the most any codec needs for `count`
values, so a damaged stream cannot make a reader allocate without bound.
"""
import lzma
from collections import namedtuple

from lib.codecs.byte_planes import DEFLATE, LZMA1
from lib.codecs.limits import max_stream_bytes
from lib.codecs.tags import LZMA, ZLIB
from lib.plumbing.bounded_compression import deflate, inflate, lzma_compress, lzma_decompress

Stage = namedtuple("Stage", "name compress decompress")


_LZMA_FILTERS = [{"id": lzma.FILTER_LZMA2, "preset": 9, "dict_size": 1 << 20}]


def _lzma_compress(data):
    return lzma_compress(data, _LZMA_FILTERS)


def _lzma_decompress(data, limit):
    return lzma_decompress(data, limit, _LZMA_FILTERS)


STAGES = {
    ZLIB: Stage("zlib", deflate, inflate),
    LZMA: Stage("lzma", _lzma_compress, _lzma_decompress),
}


def entropy_stages(entropy):
    """entropy=False: none; True: every stage; or an iterable of stage flags such as (ZLIB,)."""
    if entropy is True:
        return tuple(STAGES)
    if not entropy:
        return ()
    stages = tuple(entropy)
    unknown = [s for s in stages if s not in STAGES]
    if unknown:
        raise ValueError(f"unknown entropy stages {unknown}")
    return stages


def smallest(candidates):
    """The (tag, blob) with the fewest bytes; the earlier candidate wins a tie."""
    return min(candidates, key=lambda candidate: len(candidate[1]))


def with_entropy(candidates, stages, count):
    """Add the compressed version of every candidate under every stage."""
    compressed = []
    for tag, blob in candidates:
        if len(blob) > max_stream_bytes(count):
            continue  # a decoder would refuse to inflate it; never the best anyway
        for flag in stages:
            compressed.append((tag | flag, STAGES[flag].compress(blob)))
    return candidates + compressed


def plane_compressors(stages):
    """Entropy stage flags -> the compressors of lib/codecs/byte_planes.py: LZMA -> LZMA1, ZLIB -> DEFLATE."""
    return tuple({LZMA: LZMA1, ZLIB: DEFLATE}[flag] for flag in stages)
