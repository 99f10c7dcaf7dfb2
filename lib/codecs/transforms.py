"""Integer transforms, defined once: what every codec does to its numbers before it stores them.

Timestamps every 15 s, [0, 15, 30, 45, 61], have the deltas [0, 15, 15, 15, 16] (the first value
kept as it is) and the delta-of-deltas [0, 15, 0, 0, 1]: a steady rhythm becomes zeros, and a
late scrape a small number. A level that wanders stays as it is (PLAIN), a counter or random walk
becomes its steps (DELTA), a smooth ramp its change of step (DELTA_OF_DELTA); `choose_transform`
picks the one whose residuals cost least, centred on their median and zigzagged so that small
deviations either way become small unsigned numbers. Floats become integers that sort like the
floats (`ordered_integers`), so that a float's neighbours are its integer neighbours; increasing
positions become the gaps between them; a constant stretch becomes one (value, count) pair.

Arithmetic is done modulo 2**64 (on uint64 views), the way the hardware does it, so every int64
input round-trips, extremes included: the delta from INT64_MIN to INT64_MAX "wraps" to -1, and
adding -1 to INT64_MIN wraps back to INT64_MAX. The trade-off: a wrapped delta is no longer the
true difference, so these are codecs, not arithmetic helpers. `to_signed64` is the same wrap for
one Python int. Decoders undo a transform in place, on one block or, given where each block
starts (`firsts`), on the blocks of a whole-file read at once.
"""
import numpy as np

from lib.bitstream.packing import bit_lengths
from lib.bitstream.stream import MASK64
from lib.bitstream.varint import zigzag_decode_in_place, zigzag_encode
from lib.codecs.limits import slices
from lib.errors import FormatError

_U64 = np.uint64
PLAIN, DELTA, DELTA_OF_DELTA = 0, 1, 2
TRANSFORM_NAMES = {PLAIN: "plain", DELTA: "delta", DELTA_OF_DELTA: "delta-of-delta"}


# Delta and delta-of-delta ------------------------------------------------------------------------


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


def operate_per_block(array, numbers, counts, operation, identity, as_array):
    """array = operation(array, each block's number), in place, for blocks of `counts` values laid
    end to end (a batched decoder's): nothing when every number is the `identity` (a base 0, a
    factor 1, an exponent 0), one scalar when all blocks share it, else each number repeated over
    its block.
    `as_array` makes a list of numbers an array of the operation's kind. Example, np.add on
    [1, 1, 1] with numbers [3, 5] and counts [2, 1]: [4, 4, 6]."""
    if all(number == identity for number in numbers):
        return
    if all(number == numbers[0] for number in numbers):
        operation(array, as_array(numbers[:1])[0], out=array)
    else:
        operation(array, np.repeat(as_array(numbers), counts), out=array)


FORWARD = {PLAIN: lambda ints: ints, DELTA: encode_delta, DELTA_OF_DELTA: encode_delta_of_delta}
INVERSE = {PLAIN: lambda ints, firsts=None: ints, DELTA: decode_delta_in_place,
           DELTA_OF_DELTA: decode_delta_of_delta_in_place}


# Choosing a transform, centring and zigzag --------------------------------------------------------

PLAN_RUNS, PLAN_RUN_LENGTH = 16, 1024  # neighbours looked at when choosing the transform


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


def planning_sample(ints, runs=PLAN_RUNS, run_length=PLAN_RUN_LENGTH):
    """The integers themselves, or for big arrays `runs` evenly spaced runs of `run_length`.

    Runs rather than single values, because delta and delta-of-delta only mean something between
    neighbours; the few jumps where two runs meet are outliers that the width choice ignores.
    """
    if ints.size <= runs * run_length:
        return ints
    starts = np.linspace(0, ints.size - run_length, runs).astype(np.int64)
    return ints[(starts[:, None] + np.arange(run_length)).reshape(-1)]


def choose_transform(ints, residual_cost, runs=PLAN_RUNS, run_length=PLAN_RUN_LENGTH):
    """(transform, base) whose centred residuals cost least by `residual_cost(residuals) -> number`,
    on a sample of runs of neighbours; the base is that sample's median after the transform. On
    a tie the simpler transform wins: PLAIN, then DELTA."""
    sample = planning_sample(ints, runs, run_length)
    best = None
    for transform, forward in FORWARD.items():
        transformed = forward(sample)
        base = median_base(transformed)
        cost = residual_cost(centred_residuals(transformed, base))
        if best is None or cost < best[0]:
            best = (cost, transform, base)
    return best[1], best[2]


BINS_PLAN_SAMPLE = (4, 512)  # runs of neighbours that choose the transform of a bins stream


def plan_for_bins(ints):
    """(transform, base, residuals) for a bins stream: the transform whose residuals have the
    fewest significant bits in all (about what bins spend on them)."""
    transform, base = choose_transform(ints, lambda residuals: int(bit_lengths(residuals).sum()), *BINS_PLAN_SAMPLE)
    return transform, base, centred_residuals(FORWARD[transform](ints), base)


# Floats as integers in their order ---------------------------------------------------------------


def bit_patterns(values):
    return np.ascontiguousarray(values, dtype=np.float64).view(np.uint64)


def ordered_integers(values):
    """Float bit patterns -> int64 in the order of the floats: -1.0 < -0.0 < 0.0 < 1.0 < inf.

    Positive patterns get their sign bit set, negative ones are inverted; bijective on all 2**64
    patterns (NaN payloads included), so a float's neighbours are its integer neighbours.
    """
    patterns = bit_patterns(values)
    negative = (patterns >> np.uint64(63)).astype(bool)
    return np.where(negative, ~patterns, patterns | np.uint64(1 << 63)).view(np.int64)


SIGN_BIT = np.uint64(1 << 63)


def floats_from_ordered(ordered):
    """Inverse of `ordered_integers`, written over the int64 array `ordered` (a decoder's own), a
    slice at a time: a set sign bit is cleared, anything else inverted. Both are an XOR, with
    the sign bit alone or with all ones, and that mask is (u >> 63) - 1 with the sign bit set."""
    unsigned = ordered.view(np.uint64)
    for start, end in slices(unsigned.size):
        part = unsigned[start:end]
        mask = part >> np.uint64(63)
        mask -= np.uint64(1)
        mask |= SIGN_BIT
        part ^= mask
    return ordered.view(np.float64)


def float_steps(values, decoded):
    """The adjustments: ordered(values) - ordered(decoded) modulo 2**64, as int64 (arrays of one
    shape). [1.0, nan] from [1.0, 0.0] -> [0, a large number]; 0.1 + 0.2 from 0.3 -> [1].
    When no value is negative (no sign bit set, the usual case), both ordered integers are the
    bit patterns plus 2**63, so the steps are the patterns' difference: three array passes (two
    minimums and a subtraction) instead of `float_steps_reference`'s eleven."""
    patterns, decoded_patterns = bit_patterns(values), bit_patterns(decoded)
    if _all_positive(patterns) and _all_positive(decoded_patterns):
        return (patterns - decoded_patterns).view(np.int64)
    return float_steps_reference(values, decoded)


def _all_positive(patterns):
    """Whether there are bit patterns and none has its sign bit set (a float's, as uint64)."""
    return patterns.size > 0 and int(patterns.view(np.int64).min()) >= 0


def float_steps_reference(values, decoded):
    """`float_steps` through the ordered integers, whatever the signs: the oracle of its fast path."""
    return (ordered_integers(values).view(np.uint64) - ordered_integers(decoded).view(np.uint64)).view(np.int64)


def moved_by_steps(decoded, steps):
    """Inverse of `float_steps`: the floats `steps` ordered integers from `decoded` (modulo 2**64;
    `steps` an int64 array of `decoded`'s shape).
    Positive floats move as their bit patterns do (1.0, 0x3FF0000000000000, one step up is
    0x3FF0000000000001), as long as every moved pattern stays positive: a step below +0.0 or
    past the last NaN pattern 0x7FFFFFFFFFFFFFFF wraps to a set sign bit, and those blocks, like
    blocks with negative floats, take `moved_by_steps_reference`. The fast path is three array
    passes, the reference ten; prometheus_rate's whole-file read is 3% quicker for it."""
    patterns = bit_patterns(decoded)
    if _all_positive(patterns):
        moved = patterns + steps.view(np.uint64)
        if _all_positive(moved):
            return moved.view(np.float64)
    return moved_by_steps_reference(decoded, steps)


def moved_by_steps_reference(decoded, steps):
    """`moved_by_steps` through the ordered integers, whatever the signs: the oracle of its fast path."""
    ordered = ordered_integers(decoded).view(np.uint64)
    ordered += steps.view(np.uint64)
    return floats_from_ordered(ordered.view(np.int64))


# Positions as gaps, and runs ----------------------------------------------------------------------


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


def _comparable(values):
    """Floats compare by bit pattern, so NaN runs and -0.0 versus 0.0 are handled exactly."""
    if values.dtype.kind == "f":
        return values.view(np.dtype(f"u{values.dtype.itemsize}"))
    return values


def run_length_encode(values):
    """Return (run_values, run_lengths): [7, 7, 7, 2, 2] -> ([7, 2], [3, 2])."""
    values = np.ascontiguousarray(values)
    if values.size == 0:
        return values[:0].copy(), np.zeros(0, dtype=np.int64)
    keys = _comparable(values)
    run_starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    run_lengths = np.diff(np.append(run_starts, values.size))
    return values[run_starts], run_lengths.astype(np.int64)


def run_length_decode(run_values, run_lengths, expected_count=None):
    """Inverse of `run_length_encode`: repeat each value by its run length.

    Pass `expected_count` when the lengths come from untrusted bytes: a damaged length is then
    refused before it can make numpy allocate a huge array.
    """
    run_values = np.ascontiguousarray(run_values)
    run_lengths = np.ascontiguousarray(run_lengths, dtype=np.int64)
    if run_values.shape != run_lengths.shape:
        raise FormatError(f"{run_values.size} run values but {run_lengths.size} run lengths")
    if run_lengths.size and run_lengths.min() < 1:
        raise FormatError("run lengths must be positive")
    if expected_count is not None:
        if run_lengths.size and run_lengths.max() > expected_count:
            raise FormatError(f"a run of {run_lengths.max()} values exceeds the expected {expected_count}")
        total = int(run_lengths.sum())  # every length is bounded, so this cannot overflow
        if total != expected_count:
            raise FormatError(f"runs add up to {total} values, expected {expected_count}")
    return np.repeat(run_values, run_lengths)
