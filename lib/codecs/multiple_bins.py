"""Multiple bins (tag 10, "multiple-bins"): multiples of a step that is not a power of ten.

An exporter that computes its numbers writes floats that are nearly whole multiples of a step: a
`rate()` over a 285-second window is an integer increase / 285, a price tick is k * 0.05, an
ADC reading is counts * 2**-10, a float32 sensor reports steps of 0.1 rounded to float32. None of
them is a short decimal, so the decimal codec pays 40 to 50 bits for each. Here the decoder
computes each value from an integer k with one of two pieces of arithmetic,

    DIVIDE     k / d     (d an integer, 1 <= d <= 2**53: exact, like the decimal codec's k / 10**e)
    MULTIPLY   k * b     (b a float64: exact for b = 2**n)

and with the FLOAT32 flag rounds the result to float32 and widens it back (a float32 sensor whose
readings are tenths: k / 10 as float32). What the arithmetic misses (k * 0.05 computed by the
exporter may round differently than k / 20) is a few float steps kept as adjustments
(lib/codecs/adjusted.py). The step is found by lib/codecs/steps.py; every candidate step and
arithmetic is tried on a sample, and the smallest is written (`sized_arithmetic`).

Layout: u8 arithmetic | FLOAT32, [DIVIDE: varint d | MULTIPLY: 8-byte float64 b, little-endian],
then the adjusted integers. docs/format.md, "Multiple bins (tag 10)".
Example: rates 1/285, 2/285, 2/285 are k = 1, 2, 2 with DIVIDE 285 and no adjustments.
"""
import numpy as np

from lib.bitstream.varint import encode_varints, read_varint_list
from lib.codecs.adjusted import (
    adjusted_bytes, adjusted_decoder, adjusted_parts, decode_alone, estimated_bits,
)
from lib.codecs.decimal_digits import common_factor
from lib.codecs.float32_bins import widened_float32
from lib.codecs.limits import check_count
from lib.codecs.steps import common_step, decimal_divisor, sample_of, snapped_steps
from lib.errors import FormatError

DIVIDE, MULTIPLY = 0, 1
ARITHMETIC_NAMES = {DIVIDE: "divide", MULTIPLY: "multiply"}
FLOAT32 = 0x10
MAX_DIVISOR = 1 << 53  # every integer up to here is an exact float64
MULTIPLE_LIMIT = 2.0 ** 62  # |k| below this: an int64 with room for deltas
FLOAT32_SHARE = 0.5  # of a sample within FLOAT32_NEAR steps of a float32 for FLOAT32 to be tried
FLOAT32_NEAR = 16


class Arithmetic:
    """How the decoder turns an integer into a float: divide by `divisor` or multiply by `factor`,
    then round to float32 when `float32`."""

    def __init__(self, divisor=None, factor=None, float32=False):
        self.divisor, self.factor, self.float32 = divisor, factor, float32

    def floats(self, ints):
        """The decoder's arithmetic, which the encoder runs too: int64 -> float64."""
        floats = ints.astype(np.float64)
        if self.divisor is not None:
            floats /= float(self.divisor)
        else:
            with np.errstate(over="ignore", invalid="ignore"):
                floats *= self.factor
        return widened_float32(floats) if self.float32 else floats

    def multiples(self, values):
        """(ints, usable): the nearest k for each value; usable where it is finite and in range."""
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            scaled = values * float(self.divisor) if self.divisor is not None else values / self.factor
            usable = np.abs(scaled) < MULTIPLE_LIMIT
            return np.where(usable, np.rint(scaled), 0.0).astype(np.int64), usable

    def header(self):
        flags = (DIVIDE if self.divisor is not None else MULTIPLY) | (FLOAT32 if self.float32 else 0)
        if self.divisor is not None:
            return bytes((flags,)) + encode_varints([self.divisor])
        return bytes((flags,)) + np.array([self.factor], dtype="<f8").tobytes()

    def __repr__(self):
        operation = f"/ {self.divisor}" if self.divisor is not None else f"* {self.factor!r}"
        return f"k {operation}" + (" as float32" if self.float32 else "")


def read_arithmetic(blob):
    """The Arithmetic at the start of a multiple-bins block and where the integers start."""
    if not blob or blob[0] & ~FLOAT32 not in ARITHMETIC_NAMES:
        raise FormatError(f"multiple-bins arithmetic byte {blob[:1].hex() or 'missing'} is invalid")
    float32 = bool(blob[0] & FLOAT32)
    if blob[0] & ~FLOAT32 == DIVIDE:
        (divisor,), offset = read_varint_list(blob, 1, 1)
        if not 1 <= divisor <= MAX_DIVISOR:
            raise FormatError(f"multiple-bins divisor {divisor} is out of range")
        return Arithmetic(divisor=divisor, float32=float32), offset
    if len(blob) < 9:
        raise FormatError("multiple-bins block is truncated in its factor")
    factor = float(np.frombuffer(blob, dtype="<f8", count=1, offset=1)[0])
    if not np.isfinite(factor) or factor == 0:
        raise FormatError(f"multiple-bins factor {factor} is invalid")
    return Arithmetic(factor=factor, float32=float32), 9


def near_float32_share(values):
    """The share of the values within FLOAT32_NEAR float64 steps of a float32 (NaN and infinities
    count as not near: a block of them is no float32 data)."""
    if values.size == 0:
        return 0.0
    steps = np.abs(values.view(np.int64) - widened_float32(values).view(np.int64))
    return float(np.count_nonzero(steps <= FLOAT32_NEAR)) / values.size


def candidate_arithmetics(sample):
    """The arithmetics worth trying for this sample, in groups of one step each. Values that look
    like widened float32s: the decimal and the step of their float32s; others: the step found in
    the values as they are. The members of a group differ only in how the step is computed."""
    groups = []
    if near_float32_share(sample) >= FLOAT32_SHARE:
        divisor = decimal_divisor(sample)
        if divisor is not None:
            groups.append([Arithmetic(divisor=divisor, float32=True)])
            if decimal_is_finest(groups[0][0], sample):
                return groups
        step = common_step(widened_float32(sample), 32)
        if step is not None:
            groups.append([Arithmetic(divisor, factor, float32=True) for divisor, factor in snapped_steps(step, True)])
    else:
        step = common_step(sample)
        if step is not None:
            groups.append([Arithmetic(divisor, factor) for divisor, factor in snapped_steps(step)])
    return groups


def decimal_is_finest(decimal, sample):
    """Whether no step can beat the float32 decimal arithmetic k / 10**e on this sample: it gives
    back every finite value's float32, and the integers of two neighbouring sampled values
    (divided by their common factor) lie one apart, so the values come as close as one decimal
    step and no coarser step holds them; any other arithmetic would store the same float32s with
    integers at least as large. Float32 readings of 21.7 and 21.8 are k = 217 and 218 at e = 1:
    finest. 2000 and 2001 counts times 100 / 4095 in float32, 48.84005 and 48.86447, are
    k = 48840050 and 48864471 at e = 6, 24,421 apart: a step of 100 / 4095 makes them 2000 and
    2001. (Gaps of two decimal steps and more say nothing either way: the full search runs.)"""
    finite = sample[np.isfinite(sample)]
    ints, usable = decimal.multiples(finite)
    if not usable.all() or not np.array_equal(decimal.floats(ints).view(np.int64),
                                               widened_float32(finite).view(np.int64)):
        return False
    gaps = np.diff(ints) // common_factor(ints)
    return bool(np.any(np.abs(gaps) == 1))


def parts_with(values, arithmetic):
    ints, usable = arithmetic.multiples(values)
    return adjusted_parts(values, ints, usable, arithmetic.floats)


def misses(values, arithmetic):
    """How many values the arithmetic does not give back exactly from their nearest integers."""
    ints, _ = arithmetic.multiples(values)
    return int(np.count_nonzero(arithmetic.floats(ints).view(np.int64) != values.view(np.int64)))


def sized_arithmetic(values):
    """(estimated bits of the block, arithmetic): the candidate arithmetic whose adjusted integers
    are smallest on a sample, or None. Within a group (one step, computed several ways) the one
    that gives back most values exactly is sized (the first on a tie: a divisor before a factor),
    since their integers are alike; steps of different groups differ in the size of their
    integers too, so those are sized. The estimate is lib.codecs.adjusted.estimated_bits, scaled
    from the sample to the block."""
    sample = sample_of(values)
    sized = []
    for number, group in enumerate(candidate_arithmetics(sample)):
        best = group[0] if len(group) == 1 else min(group, key=lambda arithmetic: misses(sample, arithmetic))
        sized.append((estimated_bits(parts_with(sample, best)), number, best))
    if not sized:
        return None
    bits, _, arithmetic = min(sized)
    return bits * values.size // sample.size, arithmetic


def choose_arithmetic(values):
    """The arithmetic of `sized_arithmetic`, or None."""
    sized = sized_arithmetic(values)
    return sized[1] if sized else None


def encode_multiple_bins(values, arithmetic=None):
    """MULTIPLE_BINS with `arithmetic`, by default the one that sizes smallest on a sample; None
    when no step is found."""
    values = np.ascontiguousarray(values, dtype=np.float64)
    if values.size == 0:
        return None
    if arithmetic is None:
        arithmetic = choose_arithmetic(values)
    if arithmetic is None:
        return None
    return arithmetic.header() + adjusted_bytes(parts_with(values, arithmetic))


def multiple_bins_decoder(blob, count):
    """Generator decoder for lib.codecs.bins.batched.drive; returns the values."""
    check_count(count)
    blob = bytes(blob)
    arithmetic, offset = read_arithmetic(blob)
    return (yield from adjusted_decoder(blob, count, offset, arithmetic.floats, "multiple-bins"))


def decode_multiple_bins(blob, count):
    return decode_alone(multiple_bins_decoder(blob, count))
