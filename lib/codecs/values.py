"""The value codecs: each turns a block of float64 values into bytes and back, bit-exact.

Most metrics are written as decimals (CPU 12.5 %, 0.134 s, a byte count 3623878656); agents also
print computed values at full precision (51.846000000000004, the float one step above 51.846), a
few gauges take a handful of distinct values over and over, some blocks are flat, and a few
series are real full-precision measurements. So there is a codec for each of these, and
lib/codecs/selection.py picks the smallest per block:

    constant, runs       repeated 64-bit patterns, stored once or as runs
    decimal-bins         the decimal digits (lib/codecs/decimals.py) as a bins stream
                         (lib/codecs/bins.py), plus a mostly-zero stream of ULP steps for floats
                         printed a step or two away from a decimal
    dictionary           few distinct values: the values once, then each point's rank as bins
    ordered-bins         full-precision floats as integers that sort like the floats, delta-coded
    ordered, decimal-planes   the same integers as byte planes through LZMA or DEFLATE
                         (lib/codecs/byte_planes.py), tried only with `entropy`

Gorilla (lib/codecs/gorilla) and the bit-packed decimal codec are codecs too; the registry in
selection.py names them all. The byte layout of every codec is in docs/format.md. Decoders take
the bytes and the count from the caller and raise `FormatError` on damaged streams.
"""
from collections import namedtuple

import numpy as np

from lib.bitstream.packing import bit_lengths
from lib.bitstream.stream import MASK64
from lib.bitstream.varint import (
    encode_varints, read_varint_list, read_varints, zigzag_decode, zigzag_decode_int, zigzag_encode,
)
from lib.codecs.batched_bins import bins_stream, bins_stream_parts
from lib.codecs.bins import decode_bins, decode_bins_parts, encode_bins
from lib.codecs.byte_planes import DEFLATE, LZMA1, PLANES, plane_coder
from lib.codecs.decimals import (
    DIGIT_BITS, E_MAX, EXCEPTION_BITS, FORWARD, INT64_LIMIT, INVERSE, PATTERN_BYTES, POWERS_OF_TEN,
    SAMPLE_SIZE, TRANSFORM_NAMES, centred_residuals, choose_exponent, common_factor, decimal_ints,
    exponent_from_needs, fill_exceptions, integers_from_residuals, ints_to_floats, median_base, plan_integers,
    planning_sample, position_gaps, positions_from_gaps, smallest_exponents,
)
from lib.codecs.delta import unzigzag_in_place
from lib.codecs.gorilla import decode_values
from lib.codecs.limits import check_count, groups, slices
from lib.codecs.run_length import run_length_decode, run_length_encode
from lib.codecs.stream_coder import nonzero_slices
from lib.errors import FormatError


def bit_patterns(values):
    return np.ascontiguousarray(values, dtype=np.float64).view(np.uint64)


# Two small codecs for repeated patterns -----------------------------------------------------------


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


def encode_runs(values):
    """Runs of equal bit patterns: [a, a, a, b] -> run count 2, lengths [3, 1], patterns [a, b].

    None when there are more runs than half the values: then runs can only lose.
    """
    patterns = bit_patterns(values)
    run_patterns, run_lengths = run_length_encode(patterns)
    if patterns.size == 0 or 2 * run_patterns.size > patterns.size:
        return None
    return (encode_varints([run_patterns.size]) + encode_varints(run_lengths)
            + run_patterns.astype("<u8").tobytes())


def decode_runs(blob, count):
    check_count(count)
    blob = bytes(blob)
    (run_count,), offset = read_varints(blob, 1)
    if run_count > count:
        raise FormatError(f"{run_count} runs cannot make {count} values")
    run_lengths, offset = read_varints(blob, int(run_count), offset)
    if len(blob) - offset != int(run_count) * PATTERN_BYTES:
        raise FormatError(f"{len(blob) - offset} bytes left for {run_count} run patterns")
    if run_lengths.size and run_lengths.max() > count:
        raise FormatError(f"a run of {int(run_lengths.max())} values in a block of {count}")
    run_patterns = np.frombuffer(blob, dtype="<u8", offset=offset).astype(np.uint64)
    values = run_length_decode(run_patterns, run_lengths.astype(np.int64), expected_count=count)
    return values.view(np.float64)


def decode_gorilla(blob, count):
    check_count(count)
    return decode_values(bytes(blob), count)


# Two codecs that write integers as byte planes (lib/codecs/byte_planes.py) ----------------------------


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


def _residual_header(transform, base):
    return bytes((transform,)) + encode_varints([int(zigzag_encode([base])[0])])


def encode_ordered(values, compressors=(LZMA1, DEFLATE), coder=None):
    """ORDERED: u8 transform, varint zigzag(base), one plane stream (or bins stream) of residuals."""
    values = np.ascontiguousarray(values, dtype=np.float64)
    if values.size == 0:
        return None
    if coder is None:
        transform, base, _, residuals = plan_integers(ordered_integers(values))
    else:
        transform, base, residuals = plan_for_bins(ordered_integers(values))
    return _residual_header(transform, base) + (coder or plane_coder(compressors)).write([residuals])


def decode_ordered(blob, count, coder=PLANES):
    check_count(count)
    blob = bytes(blob)
    if count == 0 or len(blob) < 2 or blob[0] not in TRANSFORM_NAMES:
        raise FormatError("an ordered block needs a transform and at least one value")
    (zigzag_base,), offset = read_varint_list(blob, 1, 1)
    (residuals,), offset = coder.read(blob, [count], offset)
    if offset != len(blob):
        raise FormatError(f"{len(blob) - offset} bytes of junk after an ordered block")
    return floats_from_ordered(integers_from_residuals(residuals, zigzag_decode_int(zigzag_base), blob[0]))


def encode_decimal_planes(values, compressors=(LZMA1, DEFLATE)):
    """DECIMAL_PLANES: the decimal codec's integers, written as byte planes instead of bit-packed.

    u8 exponent, u8 transform, varint g, varint zigzag(base), varint X, one plane stream of
    residuals, X varint exception position gaps, X 8-byte exception patterns little-endian.
    """
    values = np.ascontiguousarray(values, dtype=np.float64)
    if values.size == 0:
        return None
    exponent = choose_exponent(values)
    ints, fits = decimal_ints(values, exponent)
    if not fits.any():
        return None
    factor = common_factor(ints[fits])
    transform, base, _, residuals = plan_integers(fill_exceptions(ints // factor, fits))
    exceptions = np.flatnonzero(~fits)
    return b"".join((
        bytes((exponent, transform)),
        encode_varints([factor, int(zigzag_encode([base])[0]), exceptions.size]),
        plane_coder(compressors).write([residuals]),
        encode_varints(position_gaps(exceptions)),
        values[exceptions].view(np.uint64).astype("<u8").tobytes(),
    ))


def decode_decimal_planes(blob, count):
    check_count(count)
    blob = bytes(blob)
    head = read_decimal_head(blob, count, "decimal-planes")
    (residuals,), offset = PLANES.read(blob, [count], head.offset)
    exceptions = read_exceptions(blob, offset, count, head.exceptions)
    values = _decimals_from_residuals(head, residuals)
    return _adjusted_with_exceptions(values, None, exceptions)


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


def _decimals_from_residuals(head, residuals):
    """Undo centring and the transform, multiply by g, divide by 10**e: the decimals of one block."""
    ints = integers_from_residuals(residuals, zigzag_decode_int(head.zigzag_base), head.transform)
    if head.factor != 1:
        unsigned = ints.view(np.uint64)
        unsigned *= np.uint64(head.factor)  # modulo 2**64, like the encoder's inverse
    return ints_to_floats(ints, head.exponent, in_place=True)


# DECIMAL_BINS: decimals, and floats within a few units in the last place of a decimal ------------
#
# Monitoring agents often compute a value (an average, a rate) and print it at full precision:
# 51.846000000000004 is the float right after 51.846, one unit in the last place (ULP) away. To the
# decimal codec that is an exception costing 8 bytes. Here it is the decimal 51846 / 10**3 plus an
# ADJUSTMENT of +1 step in the ordered integers of the floats, and the adjustments (mostly zero)
# are a second bins stream. Values that no decimal comes within ADJUST_LIMIT steps of, NaN and
# infinities stay exceptions.

ADJUST_LIMIT = 1 << 16
ADJUSTED = 0x80  # flag in the transform byte: an adjustment stream follows the residuals
ADJUST_COST_BITS = 6  # about what one non-zero adjustment costs in a sparse bins stream, beyond its bits


def nearest_decimals(values, exponent):
    """(ints, adjustments, usable): rint(value * 10**e), the ordered-integer steps from ints / 10**e
    to the value, and where that is a usable pair (in range, within ADJUST_LIMIT steps)."""
    with np.errstate(over="ignore", invalid="ignore"):
        scaled = values * POWERS_OF_TEN[exponent]
        in_range = np.abs(scaled) < INT64_LIMIT
        ints = np.where(in_range, np.rint(scaled), 0.0).astype(np.int64)
    nearest = ints_to_floats(ints, exponent)
    if (nearest.view(np.uint64) == values.view(np.uint64)).all():  # all exact decimals: no steps to take
        return ints, np.zeros(values.size, dtype=np.int64), in_range
    adjustments = ordered_integers(values) - ordered_integers(nearest)
    usable = in_range & (np.abs(adjustments) < ADJUST_LIMIT)
    return ints, np.where(usable, adjustments, 0), usable


def choose_adjusted_exponent(values):
    """The exponent for DECIMAL_BINS: the plain decimal choice when every value fits exactly,
    otherwise the e with the lowest estimated cost on a sample, counting adjustments."""
    step = -(-values.size // SAMPLE_SIZE)
    sample = values[::step]
    smallest = smallest_exponents(sample)
    if (smallest <= E_MAX).all():
        return exponent_from_needs(smallest)
    return int(np.argmin(adjusted_exponent_costs(sample)))  # the first smallest: ties go to the smaller e


def adjusted_exponent_cost(sample, exponent):
    """Estimated bits of the sample as DECIMAL_BINS at this exponent: the digits, the exceptions,
    and each non-zero adjustment's bits plus ADJUST_COST_BITS."""
    _, adjustments, usable = nearest_decimals(sample, exponent)
    nonzero = adjustments[adjustments != 0]
    return (sample.size * DIGIT_BITS * exponent + (~usable).sum() * EXCEPTION_BITS
            + bit_lengths(zigzag_encode(nonzero)).sum() + nonzero.size * ADJUST_COST_BITS)


EXPONENTS = np.arange(E_MAX + 1)


def adjusted_exponent_costs(sample):
    """`adjusted_exponent_cost` at every exponent 0..E_MAX at once, one row of a 2-D array per
    exponent, with the same float operations in the same order (so the same numbers). A zero
    adjustment adds no bits, so the rows can sum over all values instead of the non-zero ones."""
    with np.errstate(over="ignore", invalid="ignore"):
        scaled = sample[None, :] * POWERS_OF_TEN[:, None]
        in_range = np.abs(scaled) < INT64_LIMIT
        ints = np.where(in_range, np.rint(scaled), 0.0).astype(np.int64)
    nearest = ints.astype(np.float64)
    nearest[1:] /= POWERS_OF_TEN[1:, None]  # ints_to_floats: 10**0 divides nothing
    adjustments = ordered_integers(sample)[None, :] - ordered_integers(nearest)
    usable = in_range & (np.abs(adjustments) < ADJUST_LIMIT)
    adjustments = np.where(usable, adjustments, 0)
    return (sample.size * DIGIT_BITS * EXPONENTS + (~usable).sum(axis=1) * EXCEPTION_BITS
            + bit_lengths(zigzag_encode(adjustments)).sum(axis=1) + (adjustments != 0).sum(axis=1) * ADJUST_COST_BITS)


BINS_PLAN_SAMPLE = (4, 512)  # runs of neighbours that choose the transform of a bins block


def plan_for_bins(ints):
    """(transform, base, residuals): the transform whose residuals have the fewest significant bits
    in all (about what bins spend on them), centred on the median of a sample."""
    sample = planning_sample(ints, *BINS_PLAN_SAMPLE)
    best = None
    for transform, forward in FORWARD.items():
        transformed = forward(sample)
        base = median_base(transformed)
        cost = int(bit_lengths(centred_residuals(transformed, base)).sum())
        if best is None or cost < best[0]:
            best = (cost, transform, base)
    _, transform, base = best
    return transform, base, centred_residuals(FORWARD[transform](ints), base)


def encode_decimal_bins(values):
    """DECIMAL_BINS: u8 e, u8 transform (| ADJUSTED), varint g, varint zigzag(base), varint X,
    bins stream of residuals, [bins stream of zigzag(adjustments)], X varint exception position
    gaps, X 8-byte exception patterns little-endian."""
    values = np.ascontiguousarray(values, dtype=np.float64)
    if values.size == 0:
        return None
    exponent = choose_adjusted_exponent(values)
    ints, adjustments, usable = nearest_decimals(values, exponent)
    if not usable.any():
        return None
    factor = common_factor(ints[usable])
    transform, base, residuals = plan_for_bins(fill_exceptions(ints // factor, usable))
    exceptions = np.flatnonzero(~usable)
    adjusted = bool(adjustments.any())
    return b"".join((
        bytes((exponent, transform | (ADJUSTED if adjusted else 0))),
        encode_varints([factor, int(zigzag_encode([base])[0]), exceptions.size]),
        encode_bins(residuals),
        encode_bins(zigzag_encode(adjustments)) if adjusted else b"",
        encode_varints(position_gaps(exceptions)),
        values[exceptions].view(np.uint64).astype("<u8").tobytes(),
    ))


def decode_decimal_bins(blob, count):
    check_count(count)
    blob = bytes(blob)
    head = read_decimal_head(blob, count, "decimal-bins", adjustable=True)
    residuals, offset = decode_bins(blob, count, head.offset)
    values = _decimals_from_residuals(head, residuals)  # before the adjustments: one array at a time
    adjustments = None
    if head.adjusted:
        adjustments, offset = decode_bins_parts(blob, count, offset)
    exceptions = read_exceptions(blob, offset, count, head.exceptions)
    return _adjusted_with_exceptions(values, adjustments, exceptions)


def _adjusted_with_exceptions(values, adjustments, exceptions):
    """The decoded decimals moved by their ULP adjustments, exceptions written over them (in place).
    `adjustments` are the zigzagged steps as their bins stream stored them (all of them, or the
    positions and values of the non-zero ones), applied a slice at a time."""
    if adjustments is not None:
        for moved, zigzags in nonzero_slices(adjustments):
            steps = zigzag_decode(zigzags)
            beyond = (steps >= ADJUST_LIMIT) | (steps <= -ADJUST_LIMIT)  # no abs(): -2**63 has none in int64
            if beyond.any():
                raise FormatError(f"an adjustment of {int(steps[beyond][0])} steps is out of range")
            values[moved] = floats_from_ordered(ordered_integers(values[moved]) + steps)
    if exceptions is not None:
        positions, patterns = exceptions
        values.view(np.uint64)[positions] = patterns
    return values


def decimal_bins_decoder(blob, count):
    """`decode_decimal_bins` as a decoder for lib.codecs.batched_bins.drive: it asks for its bins
    streams and returns its parts, which `finish_decimal_bins` turns into values with other blocks'."""
    check_count(count)
    blob = bytes(blob)
    head = read_decimal_head(blob, count, "decimal-bins", adjustable=True)
    residuals, offset = yield from bins_stream(blob, head.offset, count)
    adjustments = None
    if head.adjusted:
        adjustments, offset = yield from bins_stream_parts(blob, offset, count)
    exceptions = read_exceptions(blob, offset, count, head.exceptions)
    return DecimalBinsParts(head, residuals, adjustments, exceptions)


DecimalBinsParts = namedtuple("DecimalBinsParts", "head residuals adjustments exceptions")


def finish_decimal_bins(parts):
    """The values of many decimal-bins blocks from `decimal_bins_decoder`'s parts, computed for
    many at once: the blocks of each transform, a group at a time (lib.codecs.limits.groups), in
    one array, the running sums of the delta transforms restarted at each block
    (lib/codecs/delta.py), each value divided by its block's power of ten. Returns one float64
    array per block, in order."""
    results = [None] * len(parts)
    for transform in TRANSFORM_NAMES:
        numbers = [n for n, part in enumerate(parts) if part.head.transform == transform]
        for group in groups([parts[n].residuals.size for n in numbers]):
            chosen = [numbers[i] for i in group]
            for n, values in zip(chosen, _decimal_bins_together([parts[n] for n in chosen], transform)):
                results[n] = values
    return results


def _decimal_bins_together(parts, transform):
    """The values of decimal-bins blocks of one transform, in one array (a block alone keeps its own)."""
    heads = [part.head for part in parts]
    counts = np.array([part.residuals.size for part in parts], dtype=np.int64)
    firsts = np.cumsum(counts) - counts
    centred = parts[0].residuals if len(parts) == 1 else np.concatenate([part.residuals for part in parts])
    unzigzag_in_place(centred)
    bases = [zigzag_decode_int(h.zigzag_base) & MASK64 for h in heads]
    _scale(centred, bases, 0, counts, np.add, lambda b: np.array(b, dtype=np.uint64))
    ints = INVERSE[transform](centred, firsts)
    _scale(ints, [h.factor for h in heads], 1, counts, np.multiply, lambda f: np.array(f, dtype=np.uint64))
    floats = ints_to_floats(ints.view(np.int64), 0, in_place=True)
    _scale(floats, [h.exponent for h in heads], 0, counts, np.divide, lambda e: POWERS_OF_TEN[e])
    return [_adjusted_with_exceptions(floats[first:first + count], part.adjustments, part.exceptions)
            for part, first, count in zip(parts, firsts.tolist(), counts.tolist())]


def _scale(array, per_block, identity, counts, operation, as_array):
    """array = operation(array, each block's number), in place; skipped when every number is the
    identity (a base 0, a factor 1, an exponent 0), one scalar when all blocks share it."""
    if all(number == identity for number in per_block):
        return
    if all(number == per_block[0] for number in per_block):
        operation(array, as_array(per_block[:1])[0], out=array)
    else:
        operation(array, np.repeat(as_array(per_block), counts), out=array)


# DICTIONARY: few distinct values, each repeated often ---------------------------------------------
#
# A gauge that takes a few hundred distinct values over thousands of scrapes (a load-balancer's
# share 33.3333 / 33.4447 / 33.446 ...) is cheapest as a dictionary: the distinct values once, most
# frequent first, then for each point the rank of its value in that list, as a bins stream (the
# frequent ones get short codes). Layout: varint U, u8 tag and varint length of the dictionary's
# own block (U values, encoded by the fast chooser), the block, bins stream of the U-based ranks.
# The chooser (lib/codecs/selection.py) imports this module, so it is passed in: `encode_entries(values)
# -> (tag, blob)` and `decode_entries(tag, blob, size) -> values`, which refuses tags that cannot hold them.

DICTIONARY_MAX_SHARE = 4  # tried when a sample has at most 1/4 as many distinct patterns as values


def encode_dictionary(values, encode_entries):
    patterns = bit_patterns(values)
    if patterns.size < 2 * DICTIONARY_MAX_SHARE:
        return None
    uniques, inverse, counts = np.unique(patterns, return_inverse=True, return_counts=True)
    order = np.lexsort((uniques, -counts))
    rank_of = np.empty(order.size, dtype=np.uint64)
    rank_of[order] = np.arange(order.size, dtype=np.uint64)
    tag, blob = encode_entries(uniques[order].view(np.float64))
    return b"".join((encode_varints([order.size]), bytes((tag,)), encode_varints([len(blob)]), blob,
                     encode_bins(rank_of[inverse.reshape(-1)])))


def decode_dictionary(blob, count, decode_entries):
    check_count(count)
    blob = bytes(blob)
    (size,), offset = read_varints(blob, 1)
    if count == 0 or not 1 <= size <= count or offset >= len(blob):
        raise FormatError(f"a dictionary of {size} values for {count} points")
    tag = blob[offset]
    (length,), offset = read_varints(blob, 1, offset + 1)
    if length > len(blob) - offset:
        raise FormatError(f"dictionary of {length} bytes runs past the block")
    entries = decode_entries(tag, blob[offset:offset + int(length)], int(size))
    ranks, offset = decode_bins(blob, count, offset + int(length))
    if offset != len(blob):
        raise FormatError(f"{len(blob) - offset} bytes of junk after a dictionary block")
    if count and int(ranks.max()) >= size:
        raise FormatError(f"dictionary rank {int(ranks.max())} but only {size} entries")
    return entries[ranks.view(np.int64)]  # every rank is below `size`: the same numbers as int64

