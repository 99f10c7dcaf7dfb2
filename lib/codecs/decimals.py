"""Decimal-aware float compression: store the digits a person wrote, not the bits a CPU rounded.

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
3. turns the integers into small numbers with one of three transforms, whichever is smallest:
   plain (values hovering around a level), delta (counters, random walks) or delta-of-delta
   (smooth ramps);
4. centres the results on their median (of a sample, for big blocks) and zigzags them, so small
   deviations either way become small unsigned numbers, then bit-packs them at one width w per
   block, "patching" the few that need more than w bits (PFOR, Zukowski et al. 2006): their high
   bits go to a side list. One counter restart or one spike therefore costs a few bytes instead
   of widening every value.
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
(lib/codecs/selection.py) then falls back to Gorilla.

A worked example
----------------
[1.5, 2.25, 3.0]: 1.5 needs e = 1, 2.25 needs e = 2, so e = 2 and the integers are
[150, 225, 300]. Their common factor is 75, leaving [2, 3, 4]. Plain, centred on the median 3,
is [-1, 0, 1], zigzagged [1, 0, 2]: width 2, 6 bits. Delta [2, 1, 1] also needs 6 bits and
delta-of-delta [2, -1, 0] more; on a tie the simpler transform wins, so plain it is. The block is
the header bytes 02 00 02 (e, transform, width), the varints 4B 06 00 00 (g = 75,
zigzag(3) = 6, no patches, no exceptions) and the packed bits 01 00 10 -> 0b01001000 = 0x48:
eight bytes for what costs 24 bytes raw. The tests spell this vector out.

The stream is a header (e, transform, width w, common factor g, base, patch and exception
counts), the residuals packed at w bits, then the patches and exceptions by position gap
(positions [3, 4, 10] are stored as [3, 0, 5]); docs/format.md, "Decimal (tag 2)", gives every
byte. An empty block is the empty byte string.

Decoding reverses the steps: unpack, add patch bits, un-zigzag, add the base, undo the transform,
multiply by g (modulo 2**64), divide by 10**e, then write the exception patterns over their
positions. Every count read from the blob is checked against the bytes that are present before
anything is allocated, and a damaged blob raises `FormatError`.
"""
import math

import numpy as np

from lib.bitstream.packing import bit_lengths, pack_fixed_width, unpack_fixed_width
from lib.bitstream.stream import MASK64, WORD_BITS
from lib.bitstream.varint import encode_varints, read_varints, zigzag_decode_int, zigzag_encode
from lib.codecs.delta import (
    decode_delta_in_place, decode_delta_of_delta_in_place, encode_delta, encode_delta_of_delta,
    unzigzag_in_place,
)
from lib.codecs.limits import MAX_COUNT, check_count, slices
from lib.errors import FormatError

E_MAX = 18  # 10**18 < 2**63, and every power of ten up to 1e22 is an exact float64
POWERS_OF_TEN = np.array([float(10**e) for e in range(E_MAX + 1)])  # int -> float is exact here
NO_EXPONENT = E_MAX + 1  # "fits at no exponent" in the per-value statistics
INT64_LIMIT = 2.0**63  # scaled values must stay below this to become int64

PLAIN, DELTA, DELTA_OF_DELTA = 0, 1, 2
TRANSFORM_NAMES = {PLAIN: "plain", DELTA: "delta", DELTA_OF_DELTA: "delta-of-delta"}

HEADER_BYTES = 3  # e, transform, width; then four varints
HEADER_VARINTS = 4
PATTERN_BYTES = 8  # a float64 stored raw (an exception, a run's or a constant's pattern)

# Cost model, in bits. An exception costs its raw pattern plus about one byte of position gap.
DIGIT_BITS = math.log2(10)
EXCEPTION_BITS = 8 * (PATTERN_BYTES + 1)
SAMPLE_SIZE = 1024  # values looked at when choosing the exponent
PLAN_RUNS, PLAN_RUN_LENGTH = 16, 1024  # neighbours looked at when choosing the transform

_U64 = np.uint64


# Step 1: the decimal exponent --------------------------------------------------------------------


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
    with np.errstate(over="ignore", invalid="ignore"):
        scaled = values * POWERS_OF_TEN[exponent]
        in_range = np.abs(scaled) < INT64_LIMIT  # False for NaN and inf too
        ints = np.where(in_range, np.rint(scaled), 0.0).astype(np.int64)
    decoded = ints_to_floats(ints, exponent)
    fits = in_range & (decoded.view(_U64) == values.view(_U64))
    return ints, fits


def smallest_exponents(values):
    """For each value the smallest e at which it fits, or NO_EXPONENT: [3.0, 0.5, 0.25] -> [0, 1, 2].

    Each pass only looks at the values that did not fit yet, so integer data costs one pass.
    """
    smallest = np.full(values.size, NO_EXPONENT, dtype=np.int64)
    pending = np.arange(values.size)
    for exponent in range(E_MAX + 1):
        if pending.size == 0:
            break
        _, fits = decimal_ints(values[pending], exponent)
        smallest[pending[fits]] = exponent
        pending = pending[~fits]
    return smallest


def choose_exponent(values):
    """The e with the lowest estimated cost on an evenly spaced sample of the block.

    cost(e) = e * log2(10) bits for every value + EXCEPTION_BITS for every value that needs more
    than e digits. Ties go to the smaller e.
    """
    step = -(-values.size // SAMPLE_SIZE)
    return exponent_from_needs(smallest_exponents(values[::step]))


def exponent_from_needs(smallest):
    """`choose_exponent`'s rule, given each sampled value's smallest exponent (or NO_EXPONENT)."""
    sample_size = smallest.size
    needed = np.bincount(smallest, minlength=NO_EXPONENT + 1)
    fitting = np.cumsum(needed)[: E_MAX + 1]
    exponents = np.arange(E_MAX + 1)
    cost = sample_size * DIGIT_BITS * exponents + (sample_size - fitting) * EXCEPTION_BITS
    return int(np.argmin(cost))


# Step 2 and the exceptions: integers ready for the transforms ---------------------------------


def common_factor(ints):
    """Greatest common divisor of the integers, 1 when there are none or all are 0."""
    if ints.size == 0:
        return 1
    return int(np.gcd.reduce(ints)) or 1


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


# Steps 3 and 4: transform, centre, zigzag, choose a width ---------------------------------------

FORWARD = {PLAIN: lambda ints: ints, DELTA: encode_delta, DELTA_OF_DELTA: encode_delta_of_delta}
# Decoders undo a transform in place, on one block or (`firsts`, lib/codecs/delta.py) on many at once.
INVERSE = {PLAIN: lambda ints, firsts=None: ints, DELTA: decode_delta_in_place,
           DELTA_OF_DELTA: decode_delta_of_delta_in_place}


def median_base(transformed):
    """The median (upper middle element): [998, 1003, 1000] -> 1000."""
    middle = transformed.size // 2
    return int(np.partition(transformed, middle)[middle])


def centred_residuals(transformed, base):
    """zigzag(x - base), modulo 2**64: [998, 1003, 1000] around 1000 -> [3, 6, 0]."""
    centred = (transformed.view(_U64) - _U64(base & MASK64)).view(np.int64)
    return zigzag_encode(centred)


def integers_from_residuals(residuals, base, transform):
    """Inverse of `centred_residuals` and the transform, written over the uint64 `residuals` (the
    decoder's own array): un-zigzag, add `base` (modulo 2**64), undo the transform; int64 out."""
    centred = unzigzag_in_place(residuals)
    centred += _U64(base & MASK64)
    return INVERSE[transform](centred).view(np.int64)


def _varint_bits(length):
    return 8 * max(1, -(-length // 7))


# PATCH_BITS[w, b]: what a residual of bit length b costs beyond its w packed bits: nothing if it
# fits, otherwise a position gap (about a byte) plus its high b - w bits as a varint.
PATCH_BITS = np.array(
    [[0 if b <= w else 8 + _varint_bits(b - w) for b in range(WORD_BITS + 1)] for w in range(WORD_BITS + 1)],
    dtype=np.int64,
)


def choose_width(residuals):
    """(width, estimated bits) minimising count * w + the patches for residuals wider than w."""
    histogram = np.bincount(bit_lengths(residuals), minlength=WORD_BITS + 1)
    cost = residuals.size * np.arange(WORD_BITS + 1) + PATCH_BITS @ histogram
    width = int(np.argmin(cost))
    return width, int(cost[width])


def planning_sample(ints, runs=PLAN_RUNS, run_length=PLAN_RUN_LENGTH):
    """The integers themselves, or for big arrays `runs` evenly spaced runs of `run_length`.

    Runs rather than single values, because delta and delta-of-delta only mean something between
    neighbours; the few jumps where two runs meet are outliers that the width choice ignores.
    """
    if ints.size <= runs * run_length:
        return ints
    starts = np.linspace(0, ints.size - run_length, runs).astype(np.int64)
    return ints[(starts[:, None] + np.arange(run_length)).reshape(-1)]


def plan_integers(ints):
    """(transform, base, width, residuals) of the transform that is cheapest on a sample.

    The transform and base come from the sample; the width is then chosen on all residuals.
    """
    sample = planning_sample(ints)
    best = None
    for transform, forward in FORWARD.items():
        transformed = forward(sample)
        base = median_base(transformed)
        _, cost = choose_width(centred_residuals(transformed, base))
        if best is None or cost < best[0]:
            best = (cost, transform, base)
    _, transform, base = best
    residuals = centred_residuals(FORWARD[transform](ints), base)
    width, _ = choose_width(residuals)
    return transform, base, width, residuals


# Positions of patches and exceptions -------------------------------------------------------------


def position_gaps(positions):
    """Increasing positions -> how many positions each one skips: [3, 4, 10] -> [3, 0, 5]."""
    return np.diff(positions, prepend=-1) - 1


def positions_from_gaps(gaps, count, what):
    if gaps.size and gaps.max() >= count:
        raise FormatError(f"{what} position gap {int(gaps.max())} is outside a block of {count}")
    positions = np.cumsum(gaps.astype(np.int64) + 1) - 1
    if positions.size and positions[-1] >= count:
        raise FormatError(f"{what} position {int(positions[-1])} is outside a block of {count}")
    return positions


# The codec ----------------------------------------------------------------------------------------


def encode_decimal(values):
    """float64 array -> decimal-codec bytes (decode with the count). Lossless for every pattern."""
    values = np.ascontiguousarray(values, dtype=np.float64)
    if values.size > MAX_COUNT:
        raise ValueError(f"one blob holds at most {MAX_COUNT} values, got {values.size}")
    if values.size == 0:
        return b""
    exponent = choose_exponent(values)
    ints, fits = decimal_ints(values, exponent)
    factor = common_factor(ints[fits])
    scaled = fill_exceptions(ints // factor, fits)
    transform, base, width, residuals = plan_integers(scaled)

    patches = np.flatnonzero(residuals >> _U64(width)) if width < WORD_BITS else np.zeros(0, np.int64)
    exceptions = np.flatnonzero(~fits)
    header = bytes((exponent, transform, width)) + encode_varints(
        [factor, int(zigzag_encode([base])[0]), patches.size, exceptions.size]
    )
    return b"".join((
        header,
        pack_fixed_width(residuals, width),
        encode_varints(position_gaps(patches)),
        encode_varints(residuals[patches] >> _U64(width)),
        encode_varints(position_gaps(exceptions)),
        values[exceptions].view(_U64).astype("<u8").tobytes(),
    ))


def _read_header(blob):
    if len(blob) < HEADER_BYTES:
        raise FormatError(f"decimal block of {len(blob)} bytes is shorter than its header")
    exponent, transform, width = blob[0], blob[1], blob[2]
    if exponent > E_MAX:
        raise FormatError(f"decimal exponent {exponent} is above {E_MAX}")
    if transform not in TRANSFORM_NAMES:
        raise FormatError(f"unknown integer transform {transform}")
    if width > WORD_BITS:
        raise FormatError(f"bit width {width} is above {WORD_BITS}")
    fields, offset = read_varints(blob, HEADER_VARINTS, HEADER_BYTES)
    factor, zigzag_base, patch_count, exception_count = (int(f) for f in fields)
    if factor == 0:
        raise FormatError("common factor 0 is not allowed")
    base = zigzag_decode_int(zigzag_base)
    return exponent, transform, width, factor, base, patch_count, exception_count, offset


def decode_decimal(blob, count):
    """Decimal-codec bytes -> float64 array of `count` values."""
    check_count(count)
    blob = bytes(blob)
    if count == 0:
        if blob:
            raise FormatError(f"{len(blob)} bytes for an empty block")
        return np.zeros(0, dtype=np.float64)
    exponent, transform, width, factor, base, patch_count, exception_count, offset = _read_header(blob)
    if patch_count > count or exception_count > count:
        raise FormatError(f"{patch_count} patches, {exception_count} exceptions in a block of {count}")
    if width == WORD_BITS and patch_count:
        raise FormatError("a 64-bit wide block cannot have patches")
    packed_bytes = (count * width + 7) // 8
    if offset + packed_bytes > len(blob):
        raise FormatError(f"packed residuals truncated: need {packed_bytes} bytes, have {len(blob) - offset}")
    residuals = unpack_fixed_width(blob[offset:offset + packed_bytes], count, width)
    offset += packed_bytes

    patch_gaps, offset = read_varints(blob, patch_count, offset)
    patch_highs, offset = read_varints(blob, patch_count, offset)
    if width and patch_count and (patch_highs >> _U64(WORD_BITS - width)).any():
        raise FormatError(f"patch does not fit 64 bits above a {width}-bit field")
    residuals[positions_from_gaps(patch_gaps, count, "patch")] |= patch_highs << _U64(width)

    exception_gaps, offset = read_varints(blob, exception_count, offset)
    exception_positions = positions_from_gaps(exception_gaps, count, "exception")
    if len(blob) - offset != exception_count * PATTERN_BYTES:
        raise FormatError(
            f"{len(blob) - offset} bytes left for {exception_count} exception patterns of "
            f"{PATTERN_BYTES} bytes"
        )
    patterns = np.frombuffer(blob, dtype="<u8", offset=offset, count=exception_count).astype(_U64)

    # From here on every step writes over the residuals: the block's one array of `count` values.
    ints = integers_from_residuals(residuals, base, transform).view(_U64)
    ints *= _U64(factor)  # modulo 2**64, like the encoder's inverse
    values = ints_to_floats(ints.view(np.int64), exponent, in_place=True)
    values.view(_U64)[exception_positions] = patterns
    return values


def decimal_stats(values):
    """What the encoder chose for this block, for reports: exponent, factor, transform, sizes."""
    values = np.ascontiguousarray(values, dtype=np.float64)
    blob = encode_decimal(values)
    if not blob:
        return {"values": 0, "bytes": 0}
    exponent, transform, width, factor, base, patches, exceptions, header_end = _read_header(blob)
    return {
        "values": int(values.size),
        "bytes": len(blob),
        "exponent": exponent,
        "factor": factor,
        "transform": TRANSFORM_NAMES[transform],
        "width": width,
        "base": base,
        "patches": patches,
        "exceptions": exceptions,
        "header_bytes": header_end,
    }
