"""Decimal planes (tag 6, "decimal-planes"): decimal digits as byte planes for a general-purpose compressor.

The integers of lib/codecs/decimal_digits.py, transformed and centred, written as byte planes
(lib/codecs/byte_planes.py) through LZMA or DEFLATE instead of bins. Tried only when the writer is
`exhaustive`: slower, and bins are usually smaller. docs/format.md, "Decimal planes (tag 6)".
"""
import numpy as np

from lib.bitstream.varint import encode_varints, zigzag_encode
from lib.codecs.byte_planes import DEFLATE, LZMA1, PLANES, plane_coder
from lib.codecs.decimal import plan_integers
from lib.codecs.decimal_digits import (
    adjusted_with_exceptions, choose_exponent, common_factor, decimal_ints, decimals_from_residuals, fill_exceptions,
    read_decimal_head, read_exceptions,
)
from lib.codecs.limits import check_count
from lib.codecs.transforms import position_gaps


def encode_decimal_planes(values, compressors=(LZMA1, DEFLATE)):
    """DECIMAL_PLANES: the decimal codec's integers, written as byte planes instead of bit-packed.

    u8 exponent, u8 transform, varint g, varint zigzag(base), varint X, one plane stream of
    residuals, X varint exception position gaps, X 8-byte exception patterns little-endian.
    """
    values = np.ascontiguousarray(values, dtype=np.float64)
    if values.size == 0:
        return None
    exponent = choose_exponent(values)
    ints, fits = decimal_ints(values, exponent)
    if not fits.any():
        return None
    factor = common_factor(ints[fits])
    transform, base, _, residuals = plan_integers(fill_exceptions(ints // factor, fits))
    exceptions = np.flatnonzero(~fits)
    return b"".join((
        bytes((exponent, transform)),
        encode_varints([factor, int(zigzag_encode([base])[0]), exceptions.size]),
        plane_coder(compressors).write([residuals]),
        encode_varints(position_gaps(exceptions)),
        values[exceptions].view(np.uint64).astype("<u8").tobytes(),
    ))


def decode_decimal_planes(blob, count):
    check_count(count)
    blob = bytes(blob)
    head = read_decimal_head(blob, count, "decimal-planes")
    (residuals,), offset = PLANES.read(blob, [count], head.offset)
    exceptions = read_exceptions(blob, offset, count, head.exceptions)
    values = decimals_from_residuals(head, residuals)
    return adjusted_with_exceptions(values, None, exceptions)
