"""Decimal digits: store the digits a person wrote, not the bits a CPU rounded.

The three decimal codecs (decimal, decimal-bins, decimal-planes) share what this module holds:
finding the exponent, the integers and the exceptions, and the header and exception layout of a
decimal block. They differ in how the integers are stored.

The idea
--------
Gorilla XOR (lib/codecs/gorilla/) shines on slowly changing floats, but most metrics are written as
decimals: a CPU share of 0.134, a price of 12.75, a byte count 3623878656.0. In binary, 0.134 is
the endless fraction 0.001000100100110111010010111100011010100111111...; two such values that differ
in the last decimal digit differ in almost every mantissa bit, so their XOR is noise and Gorilla
pays 20 to 60 bits per value. The same numbers written as decimals are tiny: 134 thousandths.

So, following VictoriaMetrics and ALP (Afroozeh et al., SIGMOD 2024), this codec

1. finds one decimal exponent e per block (0..E_MAX) such that `value * 10**e` is an integer for
   most values. A value "fits" only if the decoder's arithmetic, `int / 10**e` in float64, gives
   back exactly the same 64-bit pattern; the encoder checks that with the very same numpy
   expression. Division is the right way round: the integer and 10**e (up to 1e22) are exact
   floats and IEEE division rounds correctly, so k / 10**e is the float nearest to the decimal
   k / 10**e, which is exactly what parsing "0.134" produced. Multiplying by 0.001 would not be
   exact, because 0.001 itself is not.
2. divides the integers by their greatest common factor g (4096 for byte counts that are whole
   pages, 10 when every price ends in 0), so those trailing factors cost nothing;
3. turns the integers into small numbers with one of three transforms (lib/codecs/transforms.py):
   plain (values hovering around a level), delta (counters, random walks) or delta-of-delta
   (smooth ramps);
4. centres the results on their median (of a sample, for big blocks) and zigzags them, so small
   deviations either way become small unsigned numbers, then stores them: as bins
   (decimal-bins, lib/codecs/decimal_bins.py, the default), bit-packed at one width
   (decimal, lib/codecs/decimal.py) or as byte planes (decimal-planes, lib/codecs/decimal_planes.py);
5. keeps values that do not fit as EXCEPTIONS: their position and raw 64-bit pattern. NaN (any
   payload), +-inf, -0.0 (an integer has no sign of zero), float artefacts like
   0.30000000000000004 and magnitudes of 2**63 and more all land here. The integer stream gets the
   previous value at that position, so deltas around an exception stay small.

The trade-off
-------------
A larger e makes more values fit but every integer about 3.3 bits (log2 10) wider. The encoder
counts, on a sample, the smallest e each value needs, then picks the e with the lowest estimated
cost: e * 3.3 bits for every value plus EXCEPTION_BITS for every value that still does not fit.
For two-decimal data with one stray 11.529000000000002 that is e = 2 and one exception, not e = 15
with every value 13 digits wide. Full-precision noise fits nowhere cheaply; the block-level chooser
(lib/codecs/choice.py) then looks elsewhere: ordered floats, a dictionary.
"""
import math
from collections import namedtuple

import numpy as np

from lib.bitstream.packing import bit_lengths
from lib.bitstream.varint import read_varint_list, read_varints, zigzag_decode, zigzag_decode_int, zigzag_encode
from lib.codecs.limits import slices
from lib.codecs.transforms import (
    TRANSFORM_NAMES, integers_from_residuals, moved_by_steps, positions_from_gaps,
)
from lib.codecs.stream_coder import nonzero_slices
from lib.errors import FormatError

E_MAX = 18  # 10**18 < 2**63, and every power of ten up to 1e22 is an exact float64
POWERS_OF_TEN = np.array([float(10**e) for e in range(E_MAX + 1)])  # int -> float is exact here
NO_EXPONENT = E_MAX + 1  # "fits at no exponent" in the per-value statistics
INT64_LIMIT = 2.0**63  # scaled values must stay below this to become int64
PATTERN_BYTES = 8  # a float64 stored raw (an exception, a run's or a constant's pattern)

# Cost model, in bits. An exception costs its raw pattern plus about one byte of position gap.
DIGIT_BITS = math.log2(10)
EXCEPTION_BITS = 8 * (PATTERN_BYTES + 1)
SAMPLE_SIZE = 1024  # values looked at when choosing the exponent
# A float within this many steps of its decimal is the decimal plus an adjustment (decimal-bins);
# the flag in the transform byte that says an adjustment stream follows.
ADJUST_LIMIT = 1 << 16
ADJUSTED = 0x80
ADJUST_COST_BITS = 6  # about what one non-zero adjustment costs in a sparse bins stream, beyond its bits

_U64 = np.uint64


def spread_sample(values):
    """About SAMPLE_SIZE values spread evenly over the block (every value of a short one)."""
    return values[:: max(1, -(-values.size // SAMPLE_SIZE))]


# The exponent ------------------------------------------------------------------------------------


def scale_and_round(values, powers):
    """(ints, in_range): rint(values * powers) as int64 where |values * powers| < 2**63, and 0
    elsewhere (NaN, infinities, 1e300); in_range says where. `powers` broadcasts: one power of ten,
    or the column of all of them against a row of values (every exponent at once)."""
    with np.errstate(over="ignore", invalid="ignore"):
        scaled = values * powers
        in_range = np.abs(scaled) < INT64_LIMIT  # False for NaN and inf too
        ints = np.where(in_range, np.rint(scaled), 0.0).astype(np.int64)
    return ints, in_range


def ints_to_floats(ints, exponent, in_place=False):
    """The decoder's arithmetic, shared with the encoder's check: int64 / 10**e in float64.
    (Division by 10**0 = 1.0 changes no float, so it is skipped.) A decoder passes `in_place` to
    have the floats written over its integers, a slice at a time, instead of into a new array."""
    if in_place:
        floats = ints.view(np.float64)
        for start, end in slices(ints.size):
            floats[start:end] = ints[start:end].astype(np.float64)
    else:
        floats = ints.astype(np.float64)
    if exponent:
        np.divide(floats, POWERS_OF_TEN[exponent], out=floats)
    return floats


def decimal_ints(values, exponent):
    """(ints, fits): round(value * 10**e) and whether that integer decodes to the same bits.

    Non-fitting values get the integer 0. Example at e = 2: 0.134 -> 13 (13 / 100 is 0.13, a
    different float: no fit); 12.75 -> 1275 (fits); NaN, inf and 1e300 fail the range check.
    """
    values = np.ascontiguousarray(values, dtype=np.float64)
    ints, in_range = scale_and_round(values, POWERS_OF_TEN[exponent])
    decoded = ints_to_floats(ints, exponent)
    fits = in_range & (decoded.view(_U64) == values.view(_U64))
    return ints, fits


FEW_PENDING = 512  # values tried at the remaining exponents at once: 15 rows of them, 61 KB an array
ROWS_FROM_EXPONENT = 4  # short decimals (prices, percentages) fit within the passes before


def smallest_exponents(values):
    """For each value the smallest e at which it fits, or NO_EXPONENT: [3.0, 0.5, 0.25] -> [0, 1, 2].

    Each pass only looks at the values that did not fit yet, so integer data costs one pass and
    short decimals a few. Values still pending at ROWS_FROM_EXPONENT, at most FEW_PENDING of them
    (full-precision floats fit at no exponent: a sample of them would take all 19 passes), are
    tried at every remaining exponent at once, one row of a 2-D array per exponent, with
    `decimal_ints`' float operations in the same order: one pass of a few calls instead of a few
    calls per exponent.
    """
    values = np.ascontiguousarray(values, dtype=np.float64)
    smallest = np.full(values.size, NO_EXPONENT, dtype=np.int64)
    pending = np.arange(values.size)
    for exponent in range(E_MAX + 1):
        if exponent >= ROWS_FROM_EXPONENT and pending.size <= FEW_PENDING:
            _all_exponents_from(exponent, values, pending, smallest)
            break
        if pending.size == 0:
            break
        _, fits = decimal_ints(values[pending], exponent)
        smallest[pending[fits]] = exponent
        pending = pending[~fits]
    return smallest


def decimal_rows(values, first=0):
    """(ints, in range, decoded floats) of `decimal_ints`' arithmetic at every exponent from `first`
    to E_MAX at once, one row of a 2-D array per exponent, with its float operations in the same
    order, so the same numbers (dividing by 10**0 = 1.0, which `ints_to_floats` skips, changes no
    float)."""
    powers = POWERS_OF_TEN[first:, None]
    ints, in_range = scale_and_round(values[None, :], powers)
    return ints, in_range, ints.astype(np.float64) / powers


def _all_exponents_from(first, values, pending, smallest):
    """`smallest_exponents` for the values at `pending`, trying every exponent from `first` at once."""
    if pending.size == 0:
        return
    rest = values[pending]
    _, in_range, decoded = decimal_rows(rest, first)
    fits = in_range & (decoded.view(_U64) == rest.view(_U64)[None, :])
    fitting = fits.any(axis=0)
    smallest[pending[fitting]] = first + np.argmax(fits[:, fitting], axis=0)  # the first row that fits


def choose_exponent(values):
    """The e with the lowest estimated cost on an evenly spaced sample of the block.

    cost(e) = e * log2(10) bits for every value + EXCEPTION_BITS for every value that needs more
    than e digits. Ties go to the smaller e.
    """
    return exponent_from_needs(smallest_exponents(spread_sample(values)))


def exponent_from_needs(smallest):
    """`choose_exponent`'s rule, given each sampled value's smallest exponent (or NO_EXPONENT)."""
    sample_size = smallest.size
    needed = np.bincount(smallest, minlength=NO_EXPONENT + 1)
    fitting = np.cumsum(needed)[: E_MAX + 1]
    exponents = np.arange(E_MAX + 1)
    cost = sample_size * DIGIT_BITS * exponents + (sample_size - fitting) * EXCEPTION_BITS
    return int(np.argmin(cost))


# The integers and the exceptions ------------------------------------------------------------------


def common_factor(ints):
    """Greatest common divisor of the integers, 1 when there are none or all are 0."""
    if ints.size == 0:
        return 1
    return int(np.gcd.reduce(ints)) or 1


def adjustment_bits(adjustments):
    """The estimated bits of an adjustment stream: each non-zero adjustment's significant bits
    plus ADJUST_COST_BITS; zeros cost about nothing in a sparse bins stream."""
    nonzero = adjustments[adjustments != 0]
    return int(bit_lengths(zigzag_encode(nonzero)).sum()) + ADJUST_COST_BITS * nonzero.size


def fill_exceptions(ints, fits):
    """Give each exception position the integer before it (the first fitting one at the start).

    [10, ?, ?, 13] -> [10, 10, 10, 13]: a delta of 0 costs nothing, so the exceptions do not
    widen the integer stream.
    """
    if fits.all():
        return ints
    if not fits.any():
        return np.zeros_like(ints)
    positions = np.arange(ints.size)
    last_fitting = np.maximum.accumulate(np.where(fits, positions, -1))
    last_fitting[last_fitting < 0] = np.argmax(fits)
    return ints[last_fitting]


# A decimal block's header and exceptions ------------------------------------------------------------


DecimalHead = namedtuple("DecimalHead", "exponent transform adjusted factor zigzag_base exceptions offset")


def read_decimal_head(blob, count, what, adjustable=False):
    """The fields before a decimal block's streams (e, transform, g, base, exception count), checked;
    `offset` is where the streams start. Only decimal-bins may set the ADJUSTED flag (`adjustable`)."""
    if count == 0 or len(blob) < 2:
        raise FormatError(f"a {what} block needs a header and at least one value")
    adjusted = adjustable and bool(blob[1] & ADJUSTED)
    exponent, transform = blob[0], blob[1] & ~ADJUSTED if adjustable else blob[1]
    if exponent > E_MAX or transform not in TRANSFORM_NAMES:
        raise FormatError(f"{what} exponent {exponent} or transform {transform} is invalid")
    (factor, zigzag_base, exception_count), offset = read_varint_list(blob, 3, 2)
    if factor == 0 or exception_count > count:
        raise FormatError(f"common factor {factor}, {exception_count} exceptions in a block of {count}")
    return DecimalHead(exponent, transform, adjusted, factor, zigzag_base, exception_count, offset)


def read_exceptions(blob, offset, count, exception_count):
    """(positions, patterns) of the exceptions after a decimal block's streams, or None when there
    are none; the patterns must end the block."""
    positions = None
    if exception_count:
        gaps, offset = read_varints(blob, exception_count, offset)
        positions = positions_from_gaps(gaps, count, "exception")
    if len(blob) - offset != exception_count * PATTERN_BYTES:
        raise FormatError(f"{len(blob) - offset} bytes left for {exception_count} exception patterns")
    if positions is None:
        return None
    return positions, np.frombuffer(blob, dtype="<u8", offset=offset).astype(np.uint64)


def decimals_from_residuals(head, residuals):
    """Undo centring and the transform, multiply by g, divide by 10**e: the decimals of one block."""
    ints = integers_from_residuals(residuals, zigzag_decode_int(head.zigzag_base), head.transform)
    if head.factor != 1:
        unsigned = ints.view(np.uint64)
        unsigned *= np.uint64(head.factor)  # modulo 2**64, like the encoder's inverse
    return ints_to_floats(ints, head.exponent, in_place=True)


def adjusted_with_exceptions(values, adjustments, exceptions):
    """The decoded decimals moved by their ULP adjustments, exceptions written over them (in place).
    `adjustments` are the zigzagged steps as their bins stream stored them (all of them, or the
    positions and values of the non-zero ones), applied a slice at a time."""
    if adjustments is not None:
        for moved, zigzags in nonzero_slices(adjustments):
            steps = zigzag_decode(zigzags)
            beyond = (steps >= ADJUST_LIMIT) | (steps <= -ADJUST_LIMIT)  # no abs(): -2**63 has none in int64
            if beyond.any():
                raise FormatError(f"an adjustment of {int(steps[beyond][0])} steps is out of range")
            values[moved] = moved_by_steps(values[moved], steps)
    if exceptions is not None:
        positions, patterns = exceptions
        values.view(np.uint64)[positions] = patterns
    return values
