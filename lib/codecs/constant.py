"""Constant (tag 3, "constant"): every value of the block is the same 64-bit pattern, stored once.

An `up` gauge at 1.0 for a whole block, a version label's 1, a disk that never changes: eight bytes
for the block, whatever its count. docs/format.md, "Constant (tag 3)".
"""
import numpy as np

from lib.codecs.decimal_digits import PATTERN_BYTES
from lib.codecs.limits import check_count
from lib.codecs.transforms import bit_patterns
from lib.errors import FormatError


def encode_constant(values):
    """The shared bit pattern of a non-empty constant block, or None when the values differ."""
    patterns = bit_patterns(values)
    if patterns.size == 0 or (patterns != patterns[0]).any():
        return None
    return patterns[:1].astype("<u8").tobytes()


def decode_constant(blob, count):
    check_count(count)
    if len(blob) != PATTERN_BYTES or count == 0:
        raise FormatError(f"a constant block is one {PATTERN_BYTES}-byte pattern for at least one value")
    pattern = np.frombuffer(bytes(blob), dtype="<u8").astype(np.uint64)
    return np.repeat(pattern, count).view(np.float64)
