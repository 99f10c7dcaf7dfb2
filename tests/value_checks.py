"""What the value-codec tests share: floats compared as their 64-bit patterns, and a round trip
through the codec choice that checks every bit."""
import numpy as np

from lib.codecs.choice import encode_values_best
from lib.codecs.decimal_digits import read_decimal_head
from lib.codecs.registry import decode_values_tagged


def patterns(values):
    return np.asarray(values, dtype=np.float64).view(np.uint64)


def same_bits(a, b):
    """Equal shapes and equal bit patterns (floats or ints of any width)."""
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype.itemsize == b.dtype.itemsize and a.shape == b.shape and np.array_equal(
        a.view(f"u{a.dtype.itemsize}"), b.view(f"u{b.dtype.itemsize}"))


def round_trip(values, exhaustive=False):
    """(tag, blob) the choice writes for `values`, after checking it decodes to the same bits."""
    values = np.asarray(values, dtype=np.float64)
    tag, blob = encode_values_best(values, exhaustive=exhaustive)
    np.testing.assert_array_equal(patterns(decode_values_tagged(tag, blob, values.size)), patterns(values))
    return tag, blob


def exceptions_in(blob, count):
    """The exception count of a decimal-bins block."""
    return read_decimal_head(blob, count, "decimal-bins", adjustable=True).exceptions
