"""Delta and delta-of-delta: turn a regular sequence into mostly zeros, numpy in, numpy out.

Timestamps every 15 s, [0, 15, 30, 45, 61], have the deltas [0, 15, 15, 15, 16] (the first value
kept as it is) and the delta-of-deltas [0, 15, 0, 0, 1]: a steady rhythm becomes zeros, and a
late scrape a small number, which zigzag and a varint (lib/bitstream/varint.py) or a Gorilla code
then store in a few bits.

Arithmetic is done modulo 2**64 (on uint64 views), the way the hardware does it, so every int64
input round-trips, extremes included: the delta from INT64_MIN to INT64_MAX "wraps" to -1, and
adding -1 to INT64_MIN wraps back to INT64_MAX. The trade-off: a wrapped delta is no longer the
true difference, so these are codecs, not arithmetic helpers. `to_signed64` is the same wrap for
one Python int.
"""
import numpy as np

from lib.bitstream.stream import MASK64


def _as_int64(values):
    return np.ascontiguousarray(values, dtype=np.int64)


def to_signed64(value):
    """A Python int as the int64 it is modulo 2**64: 2**63 -> -2**63, -1 -> -1."""
    value &= MASK64
    return value - (1 << 64) if value >> 63 else value


def encode_delta(values):
    """[x0, x1, x2, ...] -> [x0, x1 - x0, x2 - x1, ...] with wrapping int64 arithmetic."""
    unsigned = _as_int64(values).view(np.uint64)
    out = unsigned.copy()
    out[1:] = unsigned[1:] - unsigned[:-1]
    return out.view(np.int64)


def decode_delta(deltas):
    """Inverse of `encode_delta`: a running sum, wrapping like the encoder did."""
    return np.cumsum(_as_int64(deltas).view(np.uint64), dtype=np.uint64).view(np.int64)


def encode_delta_of_delta(values):
    """[x0, x1, x2, x3, ...] -> [x0, d1, d2 - d1, d3 - d2, ...] where d_i = x_i - x_(i-1).

    The first delta is kept as it is: it is what the later differences are relative to.
    """
    deltas = encode_delta(values)
    out = deltas.copy()
    out[1:] = encode_delta(deltas[1:])
    return out


def decode_delta_of_delta(encoded):
    """Inverse of `encode_delta_of_delta`: rebuild the deltas, then the values."""
    encoded = _as_int64(encoded)
    deltas = encoded.copy()
    deltas[1:] = decode_delta(encoded[1:])
    return decode_delta(deltas)
