"""Adjusted integers: a block as integers the decoder turns into floats, plus the float steps left.

The codecs multiple-bins (tag 10) and float32-bins (tag 11) model each value as a float that the
decoder computes from an integer k with a fixed piece of arithmetic, `decoded(k)`: k / 300 for a
rate over five minutes, or the float32 whose bits sort as k. Most values come back exactly. The
rest lie a few representable floats away, because an exporter printed a float32 with 16 digits,
or extrapolated a rate, and each value keeps that distance as its ADJUSTMENT: the difference of
the value's and the decoded float's ordered integers (lib/codecs/transforms.py, `ordered_integers`),
modulo 2**64. Example: the float32 5.838 widened is 5.8379998207092285; printed with 16 digits and
parsed again it is 5.837999820709229, 1 float64 step above the widened float32, so its
adjustment is +1 and its integer is 5.838's float32 pattern.

The difference modulo 2**64 can reach any 64-bit pattern from any other, so every value is
representable and there are no exceptions: a NaN, an infinity or a value no integer comes near
costs one large adjustment (about 64 bits in the bins stream), a few bits more than an exception.
Adjustments are mostly zero, so their bins stream is usually sparse and small.

Layout after the codec's own header (docs/format.md, "Adjusted integers"):
    u8 transform | ADJUSTED, varint g, varint zigzag(base), bins stream of residuals,
    [ADJUSTED: bins stream of zigzag(adjustments)]
The integers are divided by their common factor g, transformed and centred (lib/codecs/transforms.py)
as the decimal codec's are. A whole-file read decodes the bins streams of many blocks together
(`adjusted_decoder` is a generator for lib/codecs/bins/batched.py); a single block is decoded by
running that same generator alone (`decode_alone`).
"""
from collections import namedtuple

import numpy as np

from lib.bitstream.packing import bit_lengths
from lib.bitstream.varint import (
    encode_varints, read_varint_list, zigzag_decode_in_place, zigzag_decode_int, zigzag_encode,
)
from lib.codecs.bins import encode_bins
from lib.codecs.bins.batched import bins_stream, bins_stream_parts, drive
from lib.codecs.decimal_digits import ADJUSTED, adjustment_bits, common_factor, fill_exceptions
from lib.codecs.limits import slices
from lib.codecs.stream_coder import nonzero_slices
from lib.codecs.transforms import (
    TRANSFORM_NAMES, float_steps, integers_from_residuals, moved_by_steps, plan_for_bins,
)
from lib.errors import FormatError

_U64 = np.uint64

AdjustedParts = namedtuple("AdjustedParts", "transform factor base residuals adjustments")


def move_by_zigzag_steps(values, steps):
    """values[i] = moved_by_steps(values[i], zigzag_decode(steps[i])), in place, for `steps` in
    either form of lib.codecs.stream_coder.compact (the decoder's own, written over), a slice at
    a time: as (positions, steps), the few values that move; as a whole array (most values move),
    every value, since a step of 0 leaves a value as it is and finding the others costs more."""
    if isinstance(steps, tuple):
        for positions, zigzags in nonzero_slices(steps):
            values[positions] = moved_by_steps(values[positions], zigzag_decode_in_place(zigzags))
        return
    for start, end in slices(values.size):
        values[start:end] = moved_by_steps(values[start:end], zigzag_decode_in_place(steps[start:end]))


def adjusted_parts(values, ints, usable, decode_ints):
    """What `adjusted_bytes` stores for `values` modelled as `decode_ints(ints)`: integers where
    `usable` (the others take their neighbour's, so deltas stay small), divided by their common
    factor, planned for bins; and the adjustments from each decoded float to its value."""
    ints = fill_exceptions(ints, usable)
    factor = common_factor(ints[usable]) if usable.any() else 1
    adjustments = float_steps(values, decode_ints(ints))
    transform, base, residuals = plan_for_bins(ints // factor if factor != 1 else ints)
    return AdjustedParts(transform, factor, base, residuals, adjustments)


def estimated_bits(parts):
    """About the bits `adjusted_bytes(parts)` takes, from bit lengths alone (no bins plan): the
    residuals' significant bits, and the adjustments' (lib.codecs.decimal_digits.adjustment_bits)."""
    return int(bit_lengths(parts.residuals).sum()) + adjustment_bits(parts.adjustments)


def adjusted_bytes(parts):
    adjusted = bool(parts.adjustments.any())
    return b"".join((
        bytes((parts.transform | (ADJUSTED if adjusted else 0),)),
        encode_varints([parts.factor, int(zigzag_encode([parts.base])[0])]),
        encode_bins(parts.residuals),
        encode_bins(zigzag_encode(parts.adjustments)) if adjusted else b"",
    ))


def adjusted_decoder(blob, count, offset, decode_ints, what):
    """Generator decoder (lib/codecs/bins/batched.py) of the adjusted integers at `offset`, the
    whole rest of `blob`: returns the float64 values, each `decode_ints(k)` moved by its steps."""
    if count == 0 or offset >= len(blob) or blob[offset] & ~ADJUSTED not in TRANSFORM_NAMES:
        raise FormatError(f"a {what} block needs a transform and at least one value")
    transform, adjusted = blob[offset] & ~ADJUSTED, bool(blob[offset] & ADJUSTED)
    (factor, zigzag_base), offset = read_varint_list(blob, 2, offset + 1)
    if factor == 0:
        raise FormatError(f"a {what} block has a common factor of 0")
    residuals, offset = yield from bins_stream(blob, offset, count)
    ints = integers_from_residuals(residuals, zigzag_decode_int(zigzag_base), transform)
    if factor != 1:
        ints.view(_U64)[:] *= _U64(factor)  # modulo 2**64, the inverse of the encoder's division
    values = decode_ints(ints)
    if adjusted:
        steps, offset = yield from bins_stream_parts(blob, offset, count)
        move_by_zigzag_steps(values, steps)
    if offset != len(blob):
        raise FormatError(f"{len(blob) - offset} bytes of junk after a {what} block")
    return values


def decode_alone(decoder):
    """Run one generator decoder by itself: the result of a single block."""
    return drive([decoder])[0]
