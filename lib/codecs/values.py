"""Pick the codec per block: no single encoding wins on every metric.

Most metrics are written as decimals (CPU 12.5 %, 0.134 s, a byte count 3623878656); agents also
print computed values at full precision (51.846000000000004, the float one step above 51.846), a
few gauges take a handful of distinct values over and over, some blocks are flat, and a few
series are real full-precision measurements. So each block is stored by the codec that suits it,
with a one-byte tag saying which. The default choice uses only the FAST codecs, each one pass of
numpy work ending in the bins entropy coder (lib/codecs/bins.py), and estimates before it encodes:

    CONSTANT      3  the one repeated 64-bit pattern, 8 bytes little-endian
    RUNS          4  run-length encoded bit patterns: varint run count R, R varint run lengths,
                     R patterns of 8 bytes little-endian
    DECIMAL_BINS  8  the decimal codec's integers (exponent, common factor, plain / delta /
                     delta-of-delta, median centring; lib/codecs/decimals.py) as a bins stream, plus
                     for floats that sit a few ULP steps from a decimal a second, mostly-zero bins
                     stream of those steps ("adjustments"); NaN, infinities and values no decimal
                     comes near are exceptions (position and raw pattern). A full-precision
                     measurement can land here too: its shortest decimal form (up to 17 digits)
                     as an integer, delta-coded through bins, can undercut the float's own bits
                     (phase 4's report shows which codec won). Layout below.
    DICTIONARY    9  tried when a sample of the block has few distinct values and their entropy
                     undercuts the best so far: the distinct values (most frequent first) as a
                     block of their own, then each point's rank as a bins stream
    ORDERED_BINS  7  tried for floats that are not near decimals: the float bits as ORDERED
                     INTEGERS (positive patterns with the sign bit set, negative ones inverted,
                     so the integers sort like the floats), then the best of plain / delta /
                     delta-of-delta as a bins stream. Layout: u8 transform, varint zigzag(base),
                     bins stream.

The older codecs stay readable and take part when `entropy` is set (slower, occasionally smaller):

    GORILLA   1   lib.codecs.gorilla.encode_values (also the codec of `choose_codecs=False`)
    DECIMAL   2   lib.codecs.decimals.encode_decimal, bit-packed at one width
    ORDERED   5   ordered integers as byte planes (lib/codecs/byte_planes.py) through LZMA or DEFLATE
    DECIMAL_PLANES 6  the decimal integers as byte planes through LZMA or DEFLATE

and with `entropy` an optional stage squeezes a classic stream with a general-purpose compressor;
its flag is OR-ed into the tag (DECIMAL | ZLIB = 0x12 is "a decimal stream, deflated"):

    ZLIB      0x10   raw DEFLATE (no zlib header), level 9
    LZMA      0x20   raw LZMA2 (no .xz container), preset 9 with a 1 MiB dictionary

Timestamps get the same treatment in `encode_timestamps_best`. Tags:

    TIMESTAMP_GORILLA  1   Gorilla delta-of-delta (lib/codecs/gorilla.py), optionally with a stage flag
    TIMESTAMP_UNITS    2   lib.codecs.byte_planes.encode_timestamp_units as byte planes (with entropy)
    TIMESTAMP_BINS     3   the same units codec with bins streams (the default)

The units codec divides by the common unit of the block (1 ms for Prometheus data in ns), then
snaps the points onto a grid of the most common interval and stores grid steps and jitter (a
missed scrape is one step of 2; the jitter is 0 most of the time, else a few ms), or, when the
grid does poorly, the delta-of-delta. A series without jitter costs a few bytes a block; jitter
costs more, and phase 4's report prints what the timestamps cost on the data at hand. Blocks spanning 2**62 or more are
left to Gorilla.

Decoders take the tag, the bytes and the count from the caller and raise `FormatError` on unknown
tags, damaged streams and decompressed sizes beyond what `count` values could ever need.
"""
import lzma
from collections import namedtuple

import numpy as np

from lib.codecs.decimals import MAX_COUNT, decode_decimal, encode_decimal
from lib.codecs.gorilla import decode_timestamps, decode_values, encode_timestamps, encode_values
from lib.plumbing.bounded_compression import deflate, inflate, lzma_compress, lzma_decompress
from lib.errors import FormatError
from lib.codecs.bins import BINS, decode_bins, encode_bins
from lib.codecs.byte_planes import (
    DEFLATE, DELTAS, GRID, LZMA1, PLANES, SPARSE_GRID, decode_timestamp_units, encode_timestamp_units, plane_coder,
)
from lib.codecs.decimals import (
    DIGIT_BITS, E_MAX, EXCEPTION_BITS, FORWARD, INVERSE, POWERS_OF_TEN, SAMPLE_SIZE, TRANSFORM_NAMES, bit_lengths,
    centred_residuals, choose_exponent, common_factor, decimal_ints, exponent_from_needs, fill_exceptions,
    ints_to_floats, median_base, plan_integers, planning_sample, position_gaps, positions_from_gaps,
    smallest_exponents,
)
from lib.bitstream.primitives import (
    encode_varints, read_varint_list, read_varints, run_length_decode, run_length_encode, zigzag_decode,
    zigzag_encode,
)

GORILLA, DECIMAL, CONSTANT, RUNS, ORDERED, DECIMAL_PLANES = 1, 2, 3, 4, 5, 6
ORDERED_BINS, DECIMAL_BINS, DICTIONARY = 7, 8, 9
ZLIB, LZMA = 0x10, 0x20
CODEC_MASK, STAGE_MASK = 0x0F, 0xF0

PATTERN_BYTES = 8
DEFAULT_BLOCK_SIZE = 1024
# No codec here needs more than this many bytes per value (decimal at its worst: an 8-byte packed
# residual, an exception pattern and two varint positions), so a decompressor is stopped there.
MAX_BYTES_PER_VALUE = 32
MAX_OVERHEAD_BYTES = 64

Codec = namedtuple("Codec", "name encode decode")
Stage = namedtuple("Stage", "name compress decompress")


def _check_count(count):
    if not isinstance(count, (int, np.integer)) or isinstance(count, bool) or not 0 <= count <= MAX_COUNT:
        raise FormatError(f"value count must be an integer in 0..{MAX_COUNT}, got {count!r}")


def _patterns(values):
    return np.ascontiguousarray(values, dtype=np.float64).view(np.uint64)


# Two small codecs for repeated patterns -----------------------------------------------------------


def encode_constant(values):
    """The shared bit pattern of a non-empty constant block, or None when the values differ."""
    patterns = _patterns(values)
    if patterns.size == 0 or (patterns != patterns[0]).any():
        return None
    return patterns[:1].astype("<u8").tobytes()


def decode_constant(blob, count):
    _check_count(count)
    if len(blob) != PATTERN_BYTES or count == 0:
        raise FormatError(f"a constant block is one {PATTERN_BYTES}-byte pattern for at least one value")
    pattern = np.frombuffer(bytes(blob), dtype="<u8").astype(np.uint64)
    return np.repeat(pattern, count).view(np.float64)


def encode_runs(values):
    """Runs of equal bit patterns: [a, a, a, b] -> run count 2, lengths [3, 1], patterns [a, b].

    None when there are more runs than half the values: then runs can only lose.
    """
    patterns = _patterns(values)
    run_patterns, run_lengths = run_length_encode(patterns)
    if patterns.size == 0 or 2 * run_patterns.size > patterns.size:
        return None
    return (encode_varints([run_patterns.size]) + encode_varints(run_lengths)
            + run_patterns.astype("<u8").tobytes())


def decode_runs(blob, count):
    _check_count(count)
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


def _decode_gorilla(blob, count):
    _check_count(count)
    return decode_values(bytes(blob), count)


# Two codecs that write integers as byte planes (lib/codecs/byte_planes.py) ----------------------------


def ordered_integers(values):
    """Float bit patterns -> int64 in the order of the floats: -1.0 < -0.0 < 0.0 < 1.0 < inf.

    Positive patterns get their sign bit set, negative ones are inverted; bijective on all 2**64
    patterns (NaN payloads included), so a float's neighbours are its integer neighbours.
    """
    patterns = _patterns(values)
    negative = (patterns >> np.uint64(63)).astype(bool)
    return np.where(negative, ~patterns, patterns | np.uint64(1 << 63)).view(np.int64)


def floats_from_ordered(ordered):
    ordered = np.asarray(ordered, dtype=np.int64).view(np.uint64)
    positive = (ordered >> np.uint64(63)).astype(bool)
    return np.where(positive, ordered ^ np.uint64(1 << 63), ~ordered).view(np.float64)


def _residual_header(transform, base):
    return bytes((transform,)) + encode_varints([int(zigzag_encode([base])[0])])


def _integers_from_residuals(transform, zigzag_base, residuals):
    base = zigzag_decode(np.array([zigzag_base], dtype=np.uint64)).view(np.uint64)[0]
    centred = zigzag_decode(residuals).view(np.uint64) + base
    return INVERSE[transform](centred.view(np.int64))


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
    _check_count(count)
    blob = bytes(blob)
    if count == 0 or len(blob) < 2 or blob[0] not in TRANSFORM_NAMES:
        raise FormatError("an ordered block needs a transform and at least one value")
    (zigzag_base,), offset = read_varints(blob, 1, 1)
    (residuals,), offset = coder.read(blob, [count], offset)
    if offset != len(blob):
        raise FormatError(f"{len(blob) - offset} bytes of junk after an ordered block")
    return floats_from_ordered(_integers_from_residuals(blob[0], zigzag_base, residuals))


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
    _check_count(count)
    blob = bytes(blob)
    if count == 0 or len(blob) < 2:
        raise FormatError("a decimal-planes block needs a header and at least one value")
    exponent, transform = blob[0], blob[1]
    if exponent > E_MAX or transform not in TRANSFORM_NAMES:
        raise FormatError(f"decimal-planes exponent {exponent} or transform {transform} is invalid")
    (factor, zigzag_base, exception_count), offset = read_varints(blob, 3, 2)
    if factor == 0 or exception_count > count:
        raise FormatError(f"common factor {factor}, {exception_count} exceptions in a block of {count}")
    (residuals,), offset = PLANES.read(blob, [count], offset)
    gaps, offset = read_varints(blob, int(exception_count), offset)
    positions = positions_from_gaps(gaps, count, "exception")
    if len(blob) - offset != int(exception_count) * PATTERN_BYTES:
        raise FormatError(f"{len(blob) - offset} bytes left for {exception_count} exception patterns")
    scaled = _integers_from_residuals(transform, zigzag_base, residuals)
    ints = (scaled.view(np.uint64) * np.uint64(factor)).view(np.int64)
    values = ints_to_floats(ints, exponent)
    values.view(np.uint64)[positions] = np.frombuffer(blob, dtype="<u8", offset=offset).astype(np.uint64)
    return values


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
        in_range = np.abs(scaled) < 2.0**63
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
    best = None
    for exponent in range(E_MAX + 1):
        _, adjustments, usable = nearest_decimals(sample, exponent)
        nonzero = adjustments[adjustments != 0]
        cost = (sample.size * DIGIT_BITS * exponent + (~usable).sum() * EXCEPTION_BITS
                + bit_lengths(zigzag_encode(nonzero)).sum() + nonzero.size * ADJUST_COST_BITS)
        if best is None or cost < best[0]:
            best = (cost, exponent)
    return best[1]


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
    _check_count(count)
    blob = bytes(blob)
    if count == 0 or len(blob) < 2:
        raise FormatError("a decimal-bins block needs a header and at least one value")
    exponent, transform, adjusted = blob[0], blob[1] & ~ADJUSTED, bool(blob[1] & ADJUSTED)
    if exponent > E_MAX or transform not in TRANSFORM_NAMES:
        raise FormatError(f"decimal-bins exponent {exponent} or transform {transform} is invalid")
    (factor, zigzag_base, exception_count), offset = read_varint_list(blob, 3, 2)
    if factor == 0 or exception_count > count:
        raise FormatError(f"common factor {factor}, {exception_count} exceptions in a block of {count}")
    residuals, offset = decode_bins(blob, count, offset)
    if adjusted:
        adjustments, offset = decode_bins(blob, count, offset)
    if exception_count:
        gaps, offset = read_varints(blob, exception_count, offset)
        positions = positions_from_gaps(gaps, count, "exception")
    if len(blob) - offset != exception_count * PATTERN_BYTES:
        raise FormatError(f"{len(blob) - offset} bytes left for {exception_count} exception patterns")
    ints = _integers_from_residuals(transform, zigzag_base, residuals)
    if factor != 1:
        ints = (ints.view(np.uint64) * np.uint64(factor)).view(np.int64)
    values = ints_to_floats(ints, exponent)
    if adjusted:
        moved = np.flatnonzero(adjustments)
        steps = zigzag_decode(adjustments[moved])
        if moved.size and int(np.abs(steps).max()) >= ADJUST_LIMIT:
            raise FormatError(f"an adjustment of {int(np.abs(steps).max())} steps is out of range")
        values[moved] = floats_from_ordered(ordered_integers(values[moved]) + steps)
    if exception_count:
        values.view(np.uint64)[positions] = np.frombuffer(blob, dtype="<u8", offset=offset).astype(np.uint64)
    return values


# DICTIONARY: few distinct values, each repeated often ---------------------------------------------
#
# A gauge that takes a few hundred distinct values over thousands of scrapes (a load-balancer's
# share 33.3333 / 33.4447 / 33.446 ...) is cheapest as a dictionary: the distinct values once, most
# frequent first, then for each point the rank of its value in that list, as a bins stream (the
# frequent ones get short codes). Layout: varint U, u8 tag and varint length of the dictionary's
# own block (U values, encoded by the fast chooser), the block, bins stream of the U-based ranks.

DICTIONARY_MAX_SHARE = 4  # tried when a sample has at most 1/4 as many distinct patterns as values


def encode_dictionary(values):
    patterns = _patterns(values)
    if patterns.size < 2 * DICTIONARY_MAX_SHARE:
        return None
    uniques, inverse, counts = np.unique(patterns, return_inverse=True, return_counts=True)
    order = np.lexsort((uniques, -counts))
    rank_of = np.empty(order.size, dtype=np.uint64)
    rank_of[order] = np.arange(order.size, dtype=np.uint64)
    tag, blob = _smallest(fast_value_candidates(uniques[order].view(np.float64), dictionary=False))
    return b"".join((encode_varints([order.size]), bytes((tag,)), encode_varints([len(blob)]), blob,
                     encode_bins(rank_of[inverse.reshape(-1)])))


def decode_dictionary(blob, count):
    _check_count(count)
    blob = bytes(blob)
    (size,), offset = read_varints(blob, 1)
    if count == 0 or not 1 <= size <= count or offset >= len(blob):
        raise FormatError(f"a dictionary of {size} values for {count} points")
    tag = blob[offset]
    if tag not in FAST_CODECS or tag == DICTIONARY:
        raise FormatError(f"dictionary entries stored with codec tag {tag}, which cannot hold them")
    (length,), offset = read_varints(blob, 1, offset + 1)
    if length > len(blob) - offset:
        raise FormatError(f"dictionary of {length} bytes runs past the block")
    entries = CODECS[tag].decode(blob[offset:offset + int(length)], int(size))
    ranks, offset = decode_bins(blob, count, offset + int(length))
    if offset != len(blob):
        raise FormatError(f"{len(blob) - offset} bytes of junk after a dictionary block")
    if count and int(ranks.max()) >= size:
        raise FormatError(f"dictionary rank {int(ranks.max())} but only {size} entries")
    return entries[ranks.astype(np.int64)]


CODECS = {
    GORILLA: Codec("gorilla", encode_values, _decode_gorilla),
    DECIMAL: Codec("decimal", encode_decimal, decode_decimal),
    CONSTANT: Codec("constant", encode_constant, decode_constant),
    RUNS: Codec("runs", encode_runs, decode_runs),
    ORDERED: Codec("ordered", encode_ordered, decode_ordered),
    DECIMAL_PLANES: Codec("decimal-planes", encode_decimal_planes, decode_decimal_planes),
    ORDERED_BINS: Codec("ordered-bins", lambda values: encode_ordered(values, coder=BINS),
                        lambda blob, count: decode_ordered(blob, count, BINS)),
    DECIMAL_BINS: Codec("decimal-bins", encode_decimal_bins, decode_decimal_bins),
    DICTIONARY: Codec("dictionary", encode_dictionary, decode_dictionary),
}
# The codecs the default (fast) choice tries: each costs one pass of numpy work, no compressor.
FAST_CODECS = (CONSTANT, RUNS, DECIMAL_BINS, DICTIONARY, ORDERED_BINS)
# These two compress inside their own layout (only the planes that pay), with the compressors the
# entropy setting allows; the entropy stage is not applied over them again.
PLANE_CODECS = (ORDERED, DECIMAL_PLANES)
# ORDERED is skipped (it costs the most time) when the decimal codec is this much smaller than
# Gorilla: then the values are short decimals and their float bits are noise to it.
ORDERED_SKIP_RATIO = 0.75


# The entropy stage --------------------------------------------------------------------------------

_LZMA_FILTERS = [{"id": lzma.FILTER_LZMA2, "preset": 9, "dict_size": 1 << 20}]


def _lzma_compress(data):
    return lzma_compress(data, _LZMA_FILTERS)


def _lzma_decompress(data, limit):
    return lzma_decompress(data, limit, _LZMA_FILTERS)


STAGES = {
    ZLIB: Stage("zlib", deflate, inflate),
    LZMA: Stage("lzma", _lzma_compress, _lzma_decompress),
}


def tag_name(tag):
    """1 -> 'gorilla', 0x12 -> 'decimal+zlib'."""
    if not isinstance(tag, (int, np.integer)) or isinstance(tag, bool) or not 0 <= tag <= 0xFF:
        raise FormatError(f"unknown value codec tag {tag!r}")
    codec = CODECS.get(tag & CODEC_MASK)
    stage = STAGES.get(tag & STAGE_MASK)
    if codec is None or (tag & STAGE_MASK and stage is None):
        raise FormatError(f"unknown value codec tag {tag!r}")
    return codec.name if stage is None else f"{codec.name}+{stage.name}"


def max_stream_bytes(count):
    """Upper bound on any plain stream for `count` values; decompression stops there."""
    return MAX_BYTES_PER_VALUE * count + MAX_OVERHEAD_BYTES


def _entropy_stages(entropy):
    """entropy=False: none; True: every stage; or an iterable of stage flags such as (ZLIB,)."""
    if entropy is True:
        return tuple(STAGES)
    if not entropy:
        return ()
    stages = tuple(entropy)
    unknown = [s for s in stages if s not in STAGES]
    if unknown:
        raise ValueError(f"unknown entropy stages {unknown}")
    return stages


def _smallest(candidates):
    """The (tag, blob) with the fewest bytes; the earlier candidate wins a tie."""
    return min(candidates, key=lambda candidate: len(candidate[1]))


def _with_entropy(candidates, stages, count):
    """Add the compressed version of every candidate under every stage."""
    compressed = []
    for tag, blob in candidates:
        if len(blob) > max_stream_bytes(count):
            continue  # a decoder would refuse to inflate it; never the best anyway
        for flag in stages:
            compressed.append((tag | flag, STAGES[flag].compress(blob)))
    return candidates + compressed


# Values -------------------------------------------------------------------------------------------


def _compressors(stages):
    """Entropy stage flags -> the plane compressors of lib/integer_codecs: LZMA -> LZMA1, ZLIB -> DEFLATE."""
    return tuple({LZMA: LZMA1, ZLIB: DEFLATE}[flag] for flag in stages)


def value_candidates(values, entropy=False):
    """(tag, blob) for every codec that applies to this block, in tag order.

    The plane codecs take part only with an entropy setting, and use the compressors it allows.
    """
    values = np.ascontiguousarray(values, dtype=np.float64)
    if not entropy:
        return fast_value_candidates(values)
    compressors = _compressors(_entropy_stages(entropy))
    candidates = []
    sizes = {}
    for tag, codec in CODECS.items():
        if tag == ORDERED and sizes.get(DECIMAL, np.inf) <= ORDERED_SKIP_RATIO * sizes[GORILLA]:
            continue  # decimals that fit: the ordered integers of their floats are noise
        blob = codec.encode(values, compressors) if tag in PLANE_CODECS else codec.encode(values)
        if blob is not None:
            candidates.append((tag, blob))
            sizes[tag] = len(blob)
    return candidates


def fast_value_candidates(values, dictionary=True):
    """(tag, blob) of the fast codecs. ORDERED_BINS is skipped when every value is a decimal: then
    the decimal integers are what the values are, and their float bits are noise."""
    candidates = []
    for tag in FAST_CODECS:
        if not worth_trying(tag, values, candidates, dictionary):
            continue
        blob = CODECS[tag].encode(values)
        if blob is None:
            continue
        candidates.append((tag, blob))
        if tag == CONSTANT:
            break
    return candidates or [(GORILLA, encode_values(values))]  # an empty block


def worth_trying(tag, values, candidates, dictionary=True):
    """Whether a fast codec could beat the candidates so far, judged without encoding.

    DICTIONARY: when a sample has few distinct values and its order-0 entropy, the most a rank
    stream could need, undercuts the best so far. ORDERED_BINS: when the decimal codec could not
    do better than 32 bits a value (full-precision floats that are not near decimals).
    """
    best = min((len(blob) for _, blob in candidates), default=np.inf)
    if tag == DICTIONARY:
        if not dictionary or values.size < 2 * DICTIONARY_MAX_SHARE:
            return False
        sample = _patterns(values)[:: -(-values.size // SAMPLE_SIZE)]
        _, counts = np.unique(sample, return_counts=True)
        if DICTIONARY_MAX_SHARE * counts.size > sample.size:
            return False
        share = counts / sample.size
        rank_bits = float(-(share * np.log2(share)).sum()) * values.size
        return rank_bits / 8 < best
    if tag == ORDERED_BINS:
        decimal = dict(candidates).get(DECIMAL_BINS)
        return decimal is None or (len(decimal) > 4 * values.size and not _no_exceptions(decimal))
    return True


def _no_exceptions(decimal_bins_blob):
    """Whether a DECIMAL_BINS blob stores no exception (its exception count varint is 0)."""
    (_, _, exceptions), _ = read_varints(decimal_bins_blob, 3, 2)
    return exceptions == 0


def encode_values_best(values, entropy=False):
    """float64 array -> (tag, blob): the smallest encoding among all codecs (and stages)."""
    values = np.ascontiguousarray(values, dtype=np.float64)
    if values.size > MAX_COUNT:
        raise ValueError(f"one block holds at most {MAX_COUNT} values, got {values.size}")
    candidates = value_candidates(values, entropy)
    if not entropy:
        return _smallest(candidates)
    classic = [c for c in candidates if c[0] not in PLANE_CODECS]
    planes = [c for c in candidates if c[0] in PLANE_CODECS]
    return _smallest(_with_entropy(classic, _entropy_stages(entropy), values.size) + planes)


def decode_values_tagged(tag, blob, count):
    """Inverse of `encode_values_best`: the codec (and stage) named by `tag` decodes `count` values."""
    tag_name(tag)
    _check_count(count)
    blob = bytes(blob)
    stage = STAGES.get(tag & STAGE_MASK)
    if stage is not None:
        blob = stage.decompress(blob, max_stream_bytes(count))
    return CODECS[tag & CODEC_MASK].decode(blob, count)


def encode_blocks_best(values, block_size=DEFAULT_BLOCK_SIZE, entropy=False):
    """Split a series into blocks and encode each: a list of (tag, blob, count)."""
    values = np.ascontiguousarray(values, dtype=np.float64)
    blocks = []
    for start in range(0, values.size, block_size):
        block = values[start:start + block_size]
        tag, blob = encode_values_best(block, entropy=entropy)
        blocks.append((tag, blob, block.size))
    return blocks


def decode_blocks(blocks):
    """Inverse of `encode_blocks_best`: the concatenated values of (tag, blob, count) blocks."""
    parts = [decode_values_tagged(tag, blob, count) for tag, blob, count in blocks]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float64)


# Timestamps ---------------------------------------------------------------------------------------

TIMESTAMP_GORILLA, TIMESTAMP_UNITS, TIMESTAMP_BINS = 1, 2, 3
TIMESTAMP_CODECS = {
    TIMESTAMP_GORILLA: Codec("gorilla", encode_timestamps, decode_timestamps),
    TIMESTAMP_UNITS: Codec("units", encode_timestamp_units, decode_timestamp_units),
    TIMESTAMP_BINS: Codec("units-bins", lambda ts, mode: encode_timestamp_units(ts, mode, coder=BINS),
                          lambda blob, count: decode_timestamp_units(blob, count, BINS)),
}


# A grid block within this many bits a timestamp, beyond its header, is not tried as delta-of-delta.
GRID_GOOD_ENOUGH_BITS = 2
GRID_HEADER_BYTES = 32  # mode, t0, unit, interval, shift and four empty bins streams, about


def fast_timestamp_candidates(timestamps):
    """The units codec with bins: the grid mode, and delta-of-delta when the grid does poorly
    (irregular or drifting scrapes); Gorilla where the units codec does not apply."""
    grid = encode_timestamp_units(timestamps, GRID, coder=BINS) if timestamps.size else None
    if grid is None:
        return [(TIMESTAMP_GORILLA, encode_timestamps(timestamps))]
    if 8 * (len(grid) - GRID_HEADER_BYTES) <= GRID_GOOD_ENOUGH_BITS * timestamps.size:
        return [(TIMESTAMP_BINS, grid)]
    return [(TIMESTAMP_BINS, grid), (TIMESTAMP_BINS, encode_timestamp_units(timestamps, DELTAS, coder=BINS))]


def timestamp_candidates(timestamps, entropy=False):
    """(tag, blob) for Gorilla and, with an entropy setting and where the span allows, the units codec."""
    timestamps = np.ascontiguousarray(timestamps, dtype=np.int64)
    if not entropy:
        return fast_timestamp_candidates(timestamps)
    compressors = _compressors(_entropy_stages(entropy))
    candidates = [(TIMESTAMP_GORILLA, encode_timestamps(timestamps))]
    if timestamps.size and compressors:
        for mode in (SPARSE_GRID, DELTAS):  # GRID rarely wins over SPARSE_GRID
            blob = encode_timestamp_units(timestamps, mode, compressors)
            if blob is not None:
                candidates.append((TIMESTAMP_UNITS, blob))
    return candidates


def encode_timestamps_best(timestamps, entropy=False):
    """int64 array -> (tag, blob): Gorilla delta-of-delta (or its compressed form) or the units codec."""
    timestamps = np.ascontiguousarray(timestamps, dtype=np.int64)
    if timestamps.size > MAX_COUNT:
        raise ValueError(f"one block holds at most {MAX_COUNT} timestamps, got {timestamps.size}")
    if not entropy:
        return _smallest(timestamp_candidates(timestamps))
    gorilla, *units = timestamp_candidates(timestamps, entropy)
    return _smallest(_with_entropy([gorilla], _entropy_stages(entropy), timestamps.size) + units)


def _timestamp_codec_and_stage(tag):
    valid = isinstance(tag, (int, np.integer)) and not isinstance(tag, bool) and 0 <= tag <= 0xFF
    codec = TIMESTAMP_CODECS.get(tag & CODEC_MASK) if valid else None
    stage = STAGES.get(tag & STAGE_MASK) if valid else None
    if codec is None or (tag & STAGE_MASK and stage is None):
        raise FormatError(f"unknown timestamp codec tag {tag!r}")
    return codec, stage


def timestamp_tag_name(tag):
    """1 -> 'gorilla', 0x11 -> 'gorilla+zlib', 2 -> 'units'."""
    codec, stage = _timestamp_codec_and_stage(tag)
    return codec.name if stage is None else f"{codec.name}+{stage.name}"


def decode_timestamps_tagged(tag, blob, count):
    codec, stage = _timestamp_codec_and_stage(tag)
    _check_count(count)
    blob = bytes(blob)
    if stage is not None:
        blob = stage.decompress(blob, max_stream_bytes(count))
    return codec.decode(blob, count)


# Reporting ----------------------------------------------------------------------------------------

# One line per codec name, for reports that say which codec each block chose.
GLOSSES = {
    "gorilla": "Gorilla XOR of each float with the one before (phase 3's encoding)",
    "decimal": "digits of a decimal (value x 10**e as an integer), bit-packed at one width",
    "constant": "every value the same 64-bit pattern, stored once",
    "runs": "runs of repeated patterns: run lengths and one pattern per run",
    "ordered": "float bits as integers that sort like the floats, deltas in byte planes",
    "decimal-planes": "decimal digits in byte planes for a general-purpose compressor",
    "ordered-bins": "float bits as integers that sort like the floats, deltas entropy-coded as bins",
    "decimal-bins": "decimal digits (plus a few ULP steps where a float is next to a decimal), "
                    "delta-coded, entropy-coded as bins",
    "dictionary": "the few distinct values once, then each point's value rank entropy-coded as bins",
    "units": "timestamps in their common unit on a grid of the usual interval: grid steps and jitter, "
             "as byte planes",
    "units-bins": "timestamps in their common unit on a grid of the usual interval (or as "
                  "delta-of-delta): grid steps and jitter entropy-coded as bins",
}
STAGE_GLOSSES = {"zlib": "then DEFLATE over the stream", "lzma": "then LZMA over the stream"}


def gloss(name):
    """'decimal+zlib' -> the decimal codec's line, then the stage's."""
    codec, _, stage = name.partition("+")
    return GLOSSES[codec] + (f", {STAGE_GLOSSES[stage]}" if stage else "")


def codec_usage(blocks):
    """Which codec won how often: {name: {blocks, values, bytes, bytes_per_value}} for a report.

    `blocks` are (tag, blob, count) triples, as `encode_blocks_best` returns them. Names are
    listed from the most bytes to the fewest.
    """
    usage = {}
    for tag, blob, count in blocks:
        row = usage.setdefault(tag_name(tag), {"blocks": 0, "values": 0, "bytes": 0})
        row["blocks"] += 1
        row["values"] += int(count)
        row["bytes"] += len(blob)
    for row in usage.values():
        row["bytes_per_value"] = row["bytes"] / row["values"] if row["values"] else 0.0
    return dict(sorted(usage.items(), key=lambda item: -item[1]["bytes"]))
