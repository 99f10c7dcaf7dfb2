"""Float32 bins (tag 11, "float32-bins"): float32 readings widened to float64, as float32 integers.

Modbus registers, GPU and sensor exporters and float32 DataFrame columns hold IEEE float32, and
the pipeline widens them to float64: 230.1 V becomes 230.10000610351562. Its float64 pattern ends
in 29 zero bits that Gorilla and the decimal codec both pay for (no short decimal is near it). As a
float32 it is 32 bits, and a slowly moving float32 reading is a small step in the float32 integers
that sort like the floats (as lib/codecs/ordered.py does for float64): 230.1 and 230.2 are 6,553
float32 steps apart, about 13 bits, not 52.

Each value is stored as its float32's ordered 32-bit integer, transformed and entropy-coded, and
the decoder widens that float32 back. A value that was printed with 16 digits on the way
(5.837999820709229 for 5.838) lies a float64 step or a few from the float32, and keeps them as an adjustment
(lib/codecs/adjusted.py); a value that is no float32 at all keeps a larger one. Example: float32
1.5 has the bits 0x3FC00000, its ordered integer 0x3FC00000 | 0x80000000 = 0xBFC00000.
docs/format.md, "Float32 bins (tag 11)": the block is the adjusted integers alone.
"""
import numpy as np

from lib.codecs.adjusted import adjusted_bytes, adjusted_decoder, adjusted_parts, decode_alone, estimated_bits
from lib.codecs.limits import check_count
from lib.codecs.steps import sample_of

_U32 = np.uint32
FLOAT32_SIGN = _U32(1 << 31)


def widened_float32(values):
    """Each float64 rounded to the nearest float32 (inf beyond its range) and widened back."""
    with np.errstate(over="ignore", invalid="ignore"):
        return np.asarray(values, dtype=np.float64).astype(np.float32).astype(np.float64)


def ordered_float32(values):
    """float64 -> the ordered integers (0 .. 2**32 - 1, as int64) of their nearest float32s:
    positive patterns get the sign bit set, negative ones are inverted, as `ordered_integers`."""
    with np.errstate(over="ignore", invalid="ignore"):
        bits = np.asarray(values, dtype=np.float64).astype(np.float32).view(_U32)
    ordered = np.where(bits & FLOAT32_SIGN, ~bits, bits | FLOAT32_SIGN)
    return ordered.astype(np.int64)


def floats_from_ordered_float32(ints):
    """Inverse of `ordered_float32`, widened to float64; only the low 32 bits of each integer count."""
    ordered = (ints.view(np.uint64) & np.uint64(0xFFFFFFFF)).astype(_U32)
    bits = np.where(ordered & FLOAT32_SIGN, ordered ^ FLOAT32_SIGN, ~ordered)
    with np.errstate(invalid="ignore"):  # a signalling NaN is quieted, the same way for encoder and decoder
        return bits.view(np.float32).astype(np.float64)


def float32_parts(values):
    """The adjusted integers (lib/codecs/adjusted.py) of the values' float32s."""
    usable = np.ones(values.size, dtype=bool)  # every float64 has a nearest float32 (inf beyond its range)
    return adjusted_parts(values, ordered_float32(values), usable, floats_from_ordered_float32)


def float32_bits_estimate(values):
    """About the bits float32-bins takes for the block: lib.codecs.adjusted.estimated_bits on the
    sample multiple-bins sizes its arithmetics on (lib.codecs.steps.sample_of), scaled to the
    block, so that the choice can compare the two."""
    sample = sample_of(values)
    return estimated_bits(float32_parts(sample)) * values.size // max(sample.size, 1)


def encode_float32_bins(values):
    """The adjusted integers of the values' float32s; None for an empty block."""
    values = np.ascontiguousarray(values, dtype=np.float64)
    if values.size == 0:
        return None
    return adjusted_bytes(float32_parts(values))


def float32_bins_decoder(blob, count):
    """Generator decoder for lib.codecs.bins.batched.drive; returns the values."""
    check_count(count)
    return (yield from adjusted_decoder(bytes(blob), count, 0, floats_from_ordered_float32, "float32-bins"))


def decode_float32_bins(blob, count):
    return decode_alone(float32_bins_decoder(blob, count))
