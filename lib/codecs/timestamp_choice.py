"""The choice of a block's timestamp codec, estimated from the block itself (lib/codecs/choice.py
chooses its values' the same way).

By default the timestamp-units codec (lib/codecs/timestamp_units.py) with bins streams, on its
grid of the usual interval: regular scrapes take a bit or two a timestamp, and the search ends
there. When the grid does poorly (events at random moments, drifting scrapes, jitter in us or
ns) the delta, centered-delta and delta-of-delta modes whose bit lengths come near the least are
sized by their bins plans, with the grid, and only the smallest is written. Gorilla where the
units codec does not apply (blocks spanning 2**62 or more). With `exhaustive`, the units codec in
byte planes and Gorilla through the stages take part too.
"""
import numpy as np

from lib.bitstream.packing import bit_lengths
from lib.codecs.bins import BINS, bins_size
from lib.codecs.choice import exhaustive_stages, plane_compressors, smallest, with_stages
from lib.codecs.gorilla import encode_timestamps
from lib.codecs.limits import MAX_COUNT
from lib.codecs.registry import TIMESTAMP_BINS, TIMESTAMP_GORILLA, TIMESTAMP_UNITS
from lib.codecs.timestamp_units import (
    CENTERED_DELTA_MODE, DELTA_MODE, DELTA_OF_DELTA_MODE, GRID, SPARSE_GRID, encode_timestamp_units, mode_parts,
    timestamp_units,
)

# A grid block within this many bits a timestamp, beyond its header, is not tried as delta-of-delta.
GRID_GOOD_ENOUGH_BITS = 2


GRID_HEADER_BYTES = 32  # mode, t0, unit, interval, shift and four empty bins streams, about


# Tried when the grid does poorly, in this order (the earlier wins a tie): deltas above the smallest
# (events, ns jitter), deltas around the median (us jitter with a few slow scrapes), delta-of-delta
# (an interval that drifts within the block). Each is sized only when the bit lengths of its
# stream add up to at most ESTIMATE_SLACK times the least of the three: bins cost about a value's
# bit length, and the slack keeps the modes an estimate cannot tell apart.
IRREGULAR_MODES = (DELTA_MODE, CENTERED_DELTA_MODE, DELTA_OF_DELTA_MODE)
ESTIMATE_SLACK = 1.05


# No stream of the fast choice is shorter, for one point or more: Gorilla stores the first
# timestamp in 8 bytes; the units codec with bins writes a mode byte, two varints (t0 and the
# unit) and at least one bins stream, which takes 3 bytes even empty. A shorter stream of another
# kind (a reference to an earlier block's timestamps) is smaller without encoding the block.
SHORTEST_FAST_TIMESTAMP_STREAM = 6


def fast_timestamp_candidates(timestamps):
    """The units codec with bins: the grid mode, and when the grid does poorly (irregular or
    drifting scrapes) the smallest of it and the IRREGULAR_MODES within ESTIMATE_SLACK of the
    least estimate; Gorilla where the units codec does not apply. Streams are sized by their bins
    plans before any is written, and only the block kept is written: the grid first, when the
    bit lengths of its streams say it may be good enough (regular scrapes, most blocks)."""
    units = timestamp_units(timestamps)
    if units is None:
        return [(TIMESTAMP_GORILLA, encode_timestamps(timestamps))]
    grid = mode_parts(units, GRID)
    written = None
    if grid_bits_estimate(grid) <= GRID_GOOD_ENOUGH_BITS * timestamps.size:
        written = written_parts(grid)
        grid_size = len(written)
    else:
        grid_size = parts_size(grid)
    if 8 * (grid_size - GRID_HEADER_BYTES) <= GRID_GOOD_ENOUGH_BITS * timestamps.size:
        return [(TIMESTAMP_BINS, written or written_parts(grid))]
    parts = {mode: mode_parts(units, mode) for mode in IRREGULAR_MODES}
    modes = worth_encoding(irregular_mode_costs(parts))
    sizes = {GRID: grid_size, **{mode: parts_size(parts[mode]) for mode in modes}}
    best = min(sizes, key=sizes.get)  # the grid on a tie, then the modes in order
    if best == GRID:
        return [(TIMESTAMP_BINS, written or written_parts(grid))]
    return [(TIMESTAMP_BINS, written_parts(parts[best]))]


def parts_size(parts):
    """The bytes of a block from its `mode_parts`, by the bins plans of its streams."""
    head, streams = parts
    return len(head) + sum(bins_size(stream) for stream in streams)


def written_parts(parts):
    head, streams = parts
    return head + BINS.write(streams)


def grid_bits_estimate(grid):
    """The bit lengths of the grid's zigzagged steps and jitter (`mode_parts`): about what bins
    spend on them, to tell regular scrapes (a few bits in all) from jittered ones without sizing."""
    _, streams = grid
    # Only the non-zero entries have bits: regular scrapes have few, and so does this sum's work.
    return sum(int(bit_lengths(s[np.flatnonzero(s)]).sum()) for s in streams)


def worth_encoding(costs):
    """The modes of `costs` ({mode: estimated bits}) within ESTIMATE_SLACK of the least, in order."""
    least = min(costs.values())
    return [mode for mode, bits in costs.items() if bits <= ESTIMATE_SLACK * least]


def irregular_mode_costs(parts):
    """{mode: the bit lengths of its stream} for the IRREGULAR_MODES' {mode: (head, [stream])}
    (`mode_parts`). Events [0, 3, 4, 900] have deltas [3, 1, 896]: above the smallest,
    [2, 0, 895], 2 + 0 + 10 = 12 bits; around the median 3, zz([0, -2, 893]) = [0, 3, 1786], 13
    bits; as delta-of-delta zz([3, -2, 895]) = [6, 3, 1790], 16 bits."""
    return {mode: int(bit_lengths(stream).sum()) for mode, (_, (stream,)) in parts.items()}


def timestamp_candidates(timestamps, exhaustive=False):
    """(tag, blob) for Gorilla and, when `exhaustive` and where the span allows, the units codec."""
    timestamps = np.ascontiguousarray(timestamps, dtype=np.int64)
    if not exhaustive:
        return fast_timestamp_candidates(timestamps)
    compressors = plane_compressors(exhaustive_stages(exhaustive))
    candidates = [(TIMESTAMP_GORILLA, encode_timestamps(timestamps))]
    if timestamps.size and compressors:
        # GRID rarely beats SPARSE_GRID
        for mode in (SPARSE_GRID, DELTA_OF_DELTA_MODE, DELTA_MODE, CENTERED_DELTA_MODE):
            blob = encode_timestamp_units(timestamps, mode, compressors)
            if blob is not None:
                candidates.append((TIMESTAMP_UNITS, blob))
    return candidates


def encode_timestamps_best(timestamps, exhaustive=False):
    """int64 array -> (tag, blob): Gorilla delta-of-delta (or its compressed form) or the units codec."""
    timestamps = np.ascontiguousarray(timestamps, dtype=np.int64)
    if timestamps.size > MAX_COUNT:
        raise ValueError(f"one block holds at most {MAX_COUNT} timestamps, got {timestamps.size}")
    if not exhaustive:
        return smallest(timestamp_candidates(timestamps))
    gorilla, *units = timestamp_candidates(timestamps, exhaustive)
    return smallest(with_stages([gorilla], exhaustive_stages(exhaustive), timestamps.size) + units)
