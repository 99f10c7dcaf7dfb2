"""Pick the codec per block, for values and for timestamps: no single encoding wins on every metric.

Each block of a series is stored by whichever codec of lib/codecs/values.py suits its numbers,
with a one-byte tag (lib/codecs/tags.py) saying which. Trying every codec and keeping the smallest
would be exact but slow, so the default choice tries only the FAST codecs (constant, runs,
decimal-bins, dictionary, ordered-bins: each one pass of numpy work ending in the bins entropy
coder) and skips a codec when an estimate says it cannot win (`worth_trying`):

    a dictionary   only when a sample has few distinct values and their order-0 entropy, the most
                   its rank stream could cost, undercuts the best so far
    ordered-bins   only when decimal-bins did not apply, or needed exceptions and more than 32 bits
                   a value: full-precision floats that no decimal comes near

With `entropy` the older codecs (Gorilla, bit-packed decimal, ordered and decimal byte planes) take
part too, and every classic stream is also tried through the DEFLATE and LZMA stages
(lib/codecs/stages.py): slower, occasionally smaller. The registry `CODECS` maps each tag to its
codec; docs/format.md gives every tag and byte layout. Decoders take the tag, the bytes and the count from the caller and raise
`FormatError` on unknown tags, damaged streams and decompressed sizes beyond what `count` values
could ever need.

Timestamps are chosen the same way from their own registry, `TIMESTAMP_CODECS`: by default the
timestamp-units codec (lib/codecs/timestamp_units.py) with bins streams, on its grid of the usual
interval, or as delta-of-delta when the grid does poorly (drifting scrapes); Gorilla where the
units codec does not apply (blocks spanning 2**62 or more). With `entropy`, the units codec in byte
planes and Gorilla through the stages take part too.
"""
from collections import namedtuple

import numpy as np

from lib.bitstream.varint import read_varints
from lib.codecs.batched_bins import finish_results, finished
from lib.codecs.bins import BINS
from lib.codecs.decimals import SAMPLE_SIZE, decode_decimal, encode_decimal
from lib.codecs.gorilla import decode_timestamps, encode_timestamps, encode_values
from lib.codecs.limits import MAX_COUNT, check_count, max_stream_bytes
from lib.codecs.stages import STAGES, entropy_stages, plane_compressors, smallest, with_entropy
from lib.codecs.tags import (
    CODEC_MASK, CONSTANT, DECIMAL, DECIMAL_BINS, DECIMAL_PLANES, DICTIONARY, GORILLA, ORDERED, ORDERED_BINS,
    RUNS, STAGE_MASK, TIMESTAMP_BINS, TIMESTAMP_GORILLA, TIMESTAMP_UNITS,
)
from lib.codecs.timestamp_units import (
    DELTAS, GRID, SPARSE_GRID, GridParts, decode_timestamp_units, encode_timestamp_units, finish_grids,
    timestamp_units_decoder,
)
from lib.codecs.values import (
    DICTIONARY_MAX_SHARE, DecimalBinsParts, bit_patterns, decimal_bins_decoder, decode_constant,
    decode_decimal_bins, decode_decimal_planes, decode_dictionary, decode_gorilla, decode_ordered,
    decode_runs, encode_constant, encode_decimal_bins, encode_decimal_planes, encode_dictionary,
    encode_ordered, encode_runs, finish_decimal_bins,
)
from lib.errors import FormatError

Codec = namedtuple("Codec", "name encode decode")  # an entry of CODECS or TIMESTAMP_CODECS

DEFAULT_BLOCK_SIZE = 1024


CODECS = {
    GORILLA: Codec("gorilla", encode_values, decode_gorilla),
    DECIMAL: Codec("decimal", encode_decimal, decode_decimal),
    CONSTANT: Codec("constant", encode_constant, decode_constant),
    RUNS: Codec("runs", encode_runs, decode_runs),
    ORDERED: Codec("ordered", encode_ordered, decode_ordered),
    DECIMAL_PLANES: Codec("decimal-planes", encode_decimal_planes, decode_decimal_planes),
    ORDERED_BINS: Codec("ordered-bins", lambda values: encode_ordered(values, coder=BINS),
                        lambda blob, count: decode_ordered(blob, count, BINS)),
    DECIMAL_BINS: Codec("decimal-bins", encode_decimal_bins, decode_decimal_bins),
    DICTIONARY: Codec("dictionary", lambda values: encode_dictionary(values, encode_dictionary_entries),
                      lambda blob, count: decode_dictionary(blob, count, decode_dictionary_entries)),
}
# The codecs the default (fast) choice tries: each costs one pass of numpy work, no compressor.
FAST_CODECS = (CONSTANT, RUNS, DECIMAL_BINS, DICTIONARY, ORDERED_BINS)
# These two compress inside their own layout (only the planes that pay), with the compressors the
# entropy setting allows; the entropy stage is not applied over them again.
PLANE_CODECS = (ORDERED, DECIMAL_PLANES)
# ORDERED is skipped (it costs the most time) when the decimal codec is this much smaller than
# Gorilla: then the values are short decimals and their float bits are noise to it.
ORDERED_SKIP_RATIO = 0.75


def encode_dictionary_entries(values):
    """A dictionary's distinct values, by the fast chooser without a dictionary of their own."""
    return smallest(fast_value_candidates(values, dictionary=False))


def decode_dictionary_entries(tag, blob, size):
    if tag not in FAST_CODECS or tag == DICTIONARY:
        raise FormatError(f"dictionary entries stored with codec tag {tag}, which cannot hold them")
    return CODECS[tag].decode(blob, size)


def codec_and_stage(tag, registry, what):
    """(codec, stage or None) named by a tag byte of `registry`; FormatError for any other tag."""
    valid = isinstance(tag, (int, np.integer)) and not isinstance(tag, bool) and 0 <= tag <= 0xFF
    codec = registry.get(tag & CODEC_MASK) if valid else None
    stage = STAGES.get(tag & STAGE_MASK) if valid else None
    if codec is None or (tag & STAGE_MASK and stage is None):
        raise FormatError(f"unknown {what} codec tag {tag!r}")
    return codec, stage


def decode_tagged(tag, blob, count, registry, what):
    """The codec (and stage) of `tag` in `registry` decodes `count` points from `blob`."""
    codec, stage = codec_and_stage(tag, registry, what)
    check_count(count)
    blob = bytes(blob)
    if stage is not None:
        blob = stage.decompress(blob, max_stream_bytes(count))
    return codec.decode(blob, count)


def name_of(tag, registry, what):
    """The codec's name, then the stage's if any: 0x12 -> 'decimal+zlib'."""
    codec, stage = codec_and_stage(tag, registry, what)
    return codec.name if stage is None else f"{codec.name}+{stage.name}"


def tag_name(tag):
    """1 -> 'gorilla', 0x12 -> 'decimal+zlib'."""
    return name_of(tag, CODECS, "value")


# Values -------------------------------------------------------------------------------------------


def value_candidates(values, entropy=False):
    """(tag, blob) for every codec that applies to this block, in tag order.

    The plane codecs take part only with an entropy setting, and use the compressors it allows.
    """
    values = np.ascontiguousarray(values, dtype=np.float64)
    if not entropy:
        return fast_value_candidates(values)
    compressors = plane_compressors(entropy_stages(entropy))
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
        sample = bit_patterns(values)[:: -(-values.size // SAMPLE_SIZE)]
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
        return smallest(candidates)
    classic = [c for c in candidates if c[0] not in PLANE_CODECS]
    planes = [c for c in candidates if c[0] in PLANE_CODECS]
    return smallest(with_entropy(classic, entropy_stages(entropy), values.size) + planes)


def decode_values_tagged(tag, blob, count):
    """Inverse of `encode_values_best`: the codec (and stage) named by `tag` decodes `count` values."""
    return decode_tagged(tag, blob, count, CODECS, "value")


def batched_value_decoder(tag, blob, count):
    """A decoder of one block's values for lib.codecs.batched_bins.drive: DECIMAL_BINS blocks have
    their bins streams decoded with other blocks' (and finish in `finish_batched_values`); other
    codecs decode on their own, at once."""
    if tag == DECIMAL_BINS:
        return decimal_bins_decoder(blob, count)
    return finished(decode_values_tagged(tag, blob, count))


def finish_batched_values(results):
    """The values of every block from what its `batched_value_decoder` returned (in place)."""
    return finish_results(results, DecimalBinsParts, finish_decimal_bins)


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
    compressors = plane_compressors(entropy_stages(entropy))
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
        return smallest(timestamp_candidates(timestamps))
    gorilla, *units = timestamp_candidates(timestamps, entropy)
    return smallest(with_entropy([gorilla], entropy_stages(entropy), timestamps.size) + units)


def timestamp_tag_name(tag):
    """1 -> 'gorilla', 0x11 -> 'gorilla+zlib', 2 -> 'units'."""
    return name_of(tag, TIMESTAMP_CODECS, "timestamp")


def decode_timestamps_tagged(tag, blob, count):
    """Inverse of `encode_timestamps_best`."""
    return decode_tagged(tag, blob, count, TIMESTAMP_CODECS, "timestamp")


def batched_timestamp_decoder(tag, blob, count):
    """A decoder of one block's timestamps for lib.codecs.batched_bins.drive: TIMESTAMP_BINS blocks
    have their bins streams decoded with other blocks' (grid blocks finish in
    `finish_batched_timestamps`); other codecs decode on their own, at once."""
    if tag == TIMESTAMP_BINS:
        check_count(count)
        return timestamp_units_decoder(blob, count)
    return finished(decode_timestamps_tagged(tag, blob, count))


def finish_batched_timestamps(results):
    """The timestamps of every block from what its `batched_timestamp_decoder` returned (in place)."""
    return finish_results(results, GridParts, finish_grids)


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

