"""Raw DEFLATE and LZMA with a hard cap on what decompressing may produce.

The codecs' entropy stage and the METRICS! index store compressed bytes without a container (no
zlib or xz header: a few bytes saved per block). Reading them back must never trust the data: a
few damaged bytes can claim gigabytes (a "decompression bomb"), stop early, or be followed by junk.
So every decompression here is given the most output it may produce, `limit`, and fails with
FormatError unless the stream ends cleanly within it (or, with exact=True, at exactly `limit`).
"""
import lzma
import zlib

from lib.errors import FormatError

DEFLATE_LEVEL = 9


def deflate(data):
    compressor = zlib.compressobj(level=DEFLATE_LEVEL, wbits=-zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


def inflate(data, limit, exact=False):
    decompressor = zlib.decompressobj(wbits=-zlib.MAX_WBITS)
    try:
        out = decompressor.decompress(data, limit)
    except zlib.error as error:
        raise FormatError(f"damaged deflate stream: {error}") from None
    if not decompressor.eof or decompressor.unconsumed_tail or decompressor.unused_data:
        raise FormatError(f"deflate stream is truncated, longer than {limit} bytes, or followed by junk")
    _check_size(out, limit, exact, "deflate")
    return out


def lzma_compress(data, filters):
    return lzma.compress(data, format=lzma.FORMAT_RAW, filters=filters)


def lzma_decompress(data, limit, filters, exact=False):
    decompressor = lzma.LZMADecompressor(format=lzma.FORMAT_RAW, filters=filters)
    try:
        out = decompressor.decompress(data, limit)
        if len(out) == limit and not decompressor.eof:
            out += decompressor.decompress(b"", 1)  # reach the end marker; it must add nothing
    except lzma.LZMAError as error:
        raise FormatError(f"damaged LZMA stream: {error}") from None
    if len(out) > limit or not decompressor.eof or decompressor.unused_data:
        raise FormatError(f"LZMA stream is truncated, longer than {limit} bytes, or followed by junk")
    _check_size(out, limit, exact, "LZMA")
    return out


def _check_size(out, limit, exact, name):
    if exact and len(out) != limit:
        raise FormatError(f"{name} stream holds {len(out)} bytes, {limit} expected")
