"""Ordered floats (tag 5 "ordered", tag 7 "ordered-bins"): full-precision floats as integers that sort like them.

Some series are real full-precision measurements (51.84637291 degrees) that no decimal comes near.
Their float bits, as integers that sort like the floats (lib/codecs/transforms.py,
`ordered_integers`), are neighbours when the values are: a slowly moving temperature becomes small
deltas. The integers are transformed and centred, then stored as a bins stream (ordered-bins, the
default) or as byte planes through a compressor (ordered, with `exhaustive`).
Layout: u8 transform, varint zigzag(base), then the one stream of residuals; docs/format.md,
"Ordered (tag 5) and ordered bins (tag 7)".
"""
import numpy as np

from lib.bitstream.varint import encode_varints, read_varint_list, zigzag_decode_int, zigzag_encode
from lib.codecs.bins import BINS
from lib.codecs.byte_planes import DEFLATE, LZMA1, PLANES, plane_coder
from lib.codecs.decimal import plan_integers
from lib.codecs.limits import check_count
from lib.codecs.transforms import (
    TRANSFORM_NAMES, floats_from_ordered, integers_from_residuals, ordered_integers, plan_for_bins,
)
from lib.errors import FormatError


def _residual_header(transform, base):
    return bytes((transform,)) + encode_varints([int(zigzag_encode([base])[0])])


def encode_ordered(values, compressors=(LZMA1, DEFLATE), coder=None):
    """ORDERED: u8 transform, varint zigzag(base), one plane stream (or bins stream) of residuals."""
    values = np.ascontiguousarray(values, dtype=np.float64)
    if values.size == 0:
        return None
    if coder is None:
        transform, base, _, residuals = plan_integers(ordered_integers(values))
    else:
        transform, base, residuals = plan_for_bins(ordered_integers(values))
    return _residual_header(transform, base) + (coder or plane_coder(compressors)).write([residuals])


def decode_ordered(blob, count, coder=PLANES):
    check_count(count)
    blob = bytes(blob)
    if count == 0 or len(blob) < 2 or blob[0] not in TRANSFORM_NAMES:
        raise FormatError("an ordered block needs a transform and at least one value")
    (zigzag_base,), offset = read_varint_list(blob, 1, 1)
    (residuals,), offset = coder.read(blob, [count], offset)
    if offset != len(blob):
        raise FormatError(f"{len(blob) - offset} bytes of junk after an ordered block")
    return floats_from_ordered(integers_from_residuals(residuals, zigzag_decode_int(zigzag_base), blob[0]))


def encode_ordered_bins(values):
    return encode_ordered(values, coder=BINS)


def decode_ordered_bins(blob, count):
    return decode_ordered(blob, count, BINS)
