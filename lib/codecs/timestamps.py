"""Pick the timestamp codec per block, the way lib/codecs/selection.py picks the value codec.

Tags (lib/codecs/tags.py; layouts in docs/format.md):


    TIMESTAMP_GORILLA  1   Gorilla delta-of-delta (lib/codecs/gorilla), optionally with a stage flag
    TIMESTAMP_UNITS    2   lib.codecs.timestamp_units.encode_timestamp_units as byte planes (with entropy)
    TIMESTAMP_BINS     3   the same units codec with bins streams (the default)

The units codec divides by the common unit of the block (1 ms for Prometheus data in ns), then
snaps the points onto a grid of the most common interval and stores grid steps and jitter (a
missed scrape is one step of 2; the jitter is 0 most of the time, else a few ms), or, when the
grid does poorly, the delta-of-delta. A series without jitter costs a few bytes a block; jitter
costs more, and phase 4's report prints what the timestamps cost on the data at hand. Blocks spanning 2**62 or more are
left to Gorilla.
"""
import numpy as np

from lib.codecs.batched_bins import finish_results, finished
from lib.codecs.bins import BINS
from lib.codecs.decimals import MAX_COUNT, check_count
from lib.codecs.gorilla import decode_timestamps, encode_timestamps
from lib.codecs.stages import STAGES, entropy_stages, plane_compressors, smallest, with_entropy, max_stream_bytes
from lib.codecs.tags import CODEC_MASK, STAGE_MASK, TIMESTAMP_BINS, TIMESTAMP_GORILLA, TIMESTAMP_UNITS
from lib.codecs.timestamp_units import (
    DELTAS, GRID, SPARSE_GRID, GridParts, decode_timestamp_units, encode_timestamp_units, finish_grids,
    timestamp_units_decoder,
)
from lib.codecs.values import Codec
from lib.errors import FormatError

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
    check_count(count)
    blob = bytes(blob)
    if stage is not None:
        blob = stage.decompress(blob, max_stream_bytes(count))
    return codec.decode(blob, count)


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
