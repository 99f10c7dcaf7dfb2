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
from lib.bitstream.varint import zigzag_decode_in_place
from lib.codecs.limits import slices


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
    return decode_delta_in_place(np.array(deltas, dtype=np.int64))


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
    return decode_delta_of_delta_in_place(np.array(encoded, dtype=np.int64))


# Decoders write over their input: a stream of 2**26 values then needs one array, not three. Given
# the positions `firsts` where segments start (the blocks of a whole-file read), each segment is
# decoded on its own, as if it were a separate array; None means one segment.


def decode_delta_in_place(deltas, firsts=None):
    """Running sums (modulo 2**64) written over int64 or uint64 `deltas`, restarted at each
    segment: [1, 2, 3 | 4, 5] -> [1, 3, 6 | 4, 9]. Each segment's first value is lowered by the sum
    of the segment before it ([1, 2, 3, -2, 5]), so that one running sum restarts at each."""
    unsigned = deltas.view(np.uint64)
    if firsts is not None and firsts.size > 1:
        unsigned[firsts[1:]] -= np.add.reduceat(unsigned, firsts, dtype=np.uint64)[:-1]
    np.cumsum(unsigned, dtype=np.uint64, out=unsigned)
    return deltas


def decode_delta_of_delta_in_place(encoded, firsts=None):
    """`decode_delta_of_delta` of each segment, written over `encoded`: a segment's first entry is
    its first value, the base of its deltas; [10, 2, 1 | 5, 3] -> [10, 12, 15 | 5, 8]."""
    if encoded.size == 0:
        return encoded
    firsts = np.zeros(1, dtype=np.int64) if firsts is None else firsts
    bases = encoded[firsts]
    encoded[firsts] = 0
    decode_delta_in_place(encoded, firsts)  # the deltas, each segment's first one 0
    encoded[firsts] = bases
    return decode_delta_in_place(encoded, firsts)


def unzigzag_in_place(unsigned):
    """zigzag_decode (lib/bitstream/varint.py) written over a uint64 array, a slice at a time so
    that its temporary stays small; returns the array (the bits of the int64 results)."""
    for start, end in slices(unsigned.size):
        zigzag_decode_in_place(unsigned[start:end])
    return unsigned
