"""The choice of a block's timestamp codec, estimated from the block itself (lib/codecs/choice.py
chooses its values' the same way).

By default the timestamp-units codec (lib/codecs/timestamp_units.py) with bins streams, on its
grid of the usual interval: regular scrapes take a bit or two a timestamp, and the search ends
there. When the grid does poorly (events at random moments, drifting scrapes, jitter in us or
ns) the delta, centered-delta and delta-of-delta modes whose bit lengths come near the least are
sized by their bins plans, with the grid, and only the smallest is written. The grid is sized
only when the bit lengths of its streams say it could be good enough or come near the modes'
least: jitter in ns puts them far above, and sizing it was a third of such a block's time.
Gorilla where the units codec does not apply (blocks spanning 2**62 or more). With
`exhaustive`, the units codec in byte planes and Gorilla through the stages take part too.
"""
import numpy as np

from lib.bitstream.packing import bit_lengths
from lib.codecs.bins import bins_plan, write_planned
from lib.codecs.choice import exhaustive_stages, plane_compressors, smallest, with_stages
from lib.codecs.gorilla import encode_timestamps
from lib.codecs.limits import MAX_COUNT
from lib.codecs.registry import TIMESTAMP_BINS, TIMESTAMP_GORILLA, TIMESTAMP_UNITS
from lib.codecs.timestamp_units import (
    CENTERED_DELTA_MODE, DELTA_MODE, DELTA_OF_DELTA_MODE, GRID, SPARSE_GRID, encode_timestamp_units, mode_parts,
    timestamp_units,
)

# A grid block within this many bits a timestamp, beyond its header, is written without sizing the
# delta modes.
GRID_GOOD_ENOUGH_BITS = 2


# A grid block's mode, t0, unit, interval, shift and the headers of its two bins streams, with room to spare.
GRID_HEADER_BYTES = 32


# Tried when the grid does poorly, in this order (the earlier wins a tie): deltas above the smallest
# (events, ns jitter), deltas around the median (us jitter with a few slow scrapes), delta-of-delta
# (an interval that drifts within the block). Each is sized only when the bit lengths of its
# stream add up to at most ESTIMATE_SLACK times the least of the three: bins cost about a value's
# bit length, and the slack keeps the modes an estimate cannot tell apart.
IRREGULAR_MODES = (DELTA_MODE, CENTERED_DELTA_MODE, DELTA_OF_DELTA_MODE)
ESTIMATE_SLACK = 1.05
# The grid, when not good enough, is sized only when its bit lengths come within this many bits
# a timestamp of the modes' least. Bit lengths miss what bins spend on small values: 0 costs no
# bit but still a unary code, so a stream of values from 0 to 12 (the deltas of 3 ms of jitter)
# takes a bit or two a value more than its bit lengths, and such streams are what the modes and
# the grid hold when scrapes jitter by a few units. Jitter in ns puts the grid's bit lengths far
# above the modes' (25.4 against 16.0 bits a point with 50 us of jitter), beyond the margin.
GRID_SLACK_BITS = 2


# No stream of the fast choice is shorter, for one point or more: Gorilla stores the first
# timestamp in 8 bytes; the units codec with bins writes a mode byte, two varints (t0 and the
# unit) and at least one bins stream, which takes 3 bytes even empty. A shorter stream of another
# kind (a reference to an earlier block's timestamps) is smaller without encoding the block.
SHORTEST_FAST_TIMESTAMP_STREAM = 6


def fast_timestamp_candidates(timestamps):
    """The units codec with bins: the grid mode, and when the grid does poorly (irregular or
    drifting scrapes) the smallest of the IRREGULAR_MODES within ESTIMATE_SLACK of the least
    estimate and the grid (when its bit lengths were within GRID_GOOD_ENOUGH_BITS a timestamp,
    or GRID_SLACK_BITS a timestamp above the modes' least); Gorilla where the units codec does
    not apply. A grid sized in fewer bits than the modes' least bit lengths is written without
    sizing them. Every stream is sized by its bins plan, and only the block kept is written,
    from its plans."""
    units = timestamp_units(timestamps)
    if units is None:
        return [(TIMESTAMP_GORILLA, encode_timestamps(timestamps))]
    grid, sizes, good_enough_bits = mode_parts(units, GRID), {}, GRID_GOOD_ENOUGH_BITS * timestamps.size
    grid_bits = None if surely_within(grid, good_enough_bits) else stream_bits(grid)
    if grid_bits is None or grid_bits <= good_enough_bits:  # it could be good enough: sized
        sizes[GRID] = planned(grid)
        if 8 * (sizes[GRID][0] - GRID_HEADER_BYTES) <= good_enough_bits:
            return [(TIMESTAMP_BINS, written(sizes[GRID][1]))]
    parts = {mode: mode_parts(units, mode) for mode in IRREGULAR_MODES}
    costs = irregular_mode_costs(parts)
    least = min(costs.values())
    if GRID in sizes and 8 * sizes[GRID][0] <= least:
        # bins seldom take fewer bits than their values' bit lengths: no mode would be smaller
        return [(TIMESTAMP_BINS, written(sizes[GRID][1]))]
    if GRID not in sizes and grid_bits <= least + GRID_SLACK_BITS * timestamps.size:
        sizes[GRID] = planned(grid)
    sizes.update((mode, planned(parts[mode])) for mode in worth_encoding(costs))
    best = min(sizes, key=lambda mode: sizes[mode][0])  # the grid on a tie, then the modes in order
    return [(TIMESTAMP_BINS, written(sizes[best][1]))]


def surely_within(parts, bits):
    """Whether the bit lengths of a block's streams surely add up to at most `bits`, without
    computing them: so few values are non-zero that even at 64 bits each they would (a regular
    grid's streams are all or nearly all zero)."""
    _, streams = parts
    return 64 * sum(int(np.count_nonzero(stream)) for stream in streams) <= bits


def stream_bits(parts):
    """The bit lengths of a block's streams (`mode_parts`) added up: about what bins take for them."""
    _, streams = parts
    return sum(int(bit_lengths(stream).sum()) for stream in streams)


def planned(parts):
    """(bytes, plans) of a block from its `mode_parts`: its streams sized by their bins plans,
    which `written` then writes without planning them again."""
    head, streams = parts
    plans = [bins_plan(stream) for stream in streams]
    return len(head) + sum(size for size, _ in plans), (head, [plan for _, plan in plans])


def written(plans):
    head, streams = plans
    return head + b"".join(write_planned(stream) for stream in streams)


def worth_encoding(costs):
    """The modes of `costs` ({mode: estimated bits}) within ESTIMATE_SLACK of the least, in order."""
    least = min(costs.values())
    return [mode for mode, bits in costs.items() if bits <= ESTIMATE_SLACK * least]


def irregular_mode_costs(parts):
    """{mode: the bit lengths of its stream} for the IRREGULAR_MODES' {mode: (head, [stream])}
    (`mode_parts`). Events [0, 3, 4, 900] have deltas [3, 1, 896]: above the smallest,
    [2, 0, 895], 2 + 0 + 10 = 12 bits; around the median 3, zz([0, -2, 893]) = [0, 3, 1786], 13
    bits; as delta-of-delta zz([3, -2, 895]) = [6, 3, 1790], 16 bits."""
    return {mode: stream_bits(parts[mode]) for mode in parts}


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
