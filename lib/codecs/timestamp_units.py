"""Timestamps in their common unit on a grid of the usual interval: grid steps and jitter.

Scrapes come at a fixed interval with a few milliseconds of jitter and now and then a missed one.
The codec divides the block by its common unit (1 ms for Prometheus data in ns), snaps each point
to the nearest slot of a grid of the most common interval, and stores two streams: the slots
skipped between points (0 for consecutive scrapes, 1 for one missed scrape) and the jitter from the
slot. Both are mostly zero. Example: [1000, 1015, 1031, 1060] in units of 1, interval 15: slots
0, 1, 2, 4, steps [0, 0, 0, 1], jitter [0, 0, 1, 0]. When the grid does poorly (drifting scrapes)
the DELTA_OF_DELTA_MODE stores the delta-of-delta instead, and DELTA_MODE the deltas themselves
minus the block's smallest delta: for events at random moments, or fine-grained (us, ns)
timestamps with jitter, the next timestamp is no better guessed from the last delta than from
none, and a delta-of-delta costs a sign bit and twice the spread. Example: [1000, 1015, 1031,
1060] in units of 1: deltas [15, 16, 29], smallest 15, stream [0, 1, 14]. The bins coder's bins
are finest near zero, so when a few deltas lie far below the rest (a slow scrape, then a quick
one) the CENTERED_DELTA_MODE stores zigzag(delta - median) instead: [15, 16, 29] -> median 16,
stream zz([-1, 0, 13]) = [1, 0, 26]. The streams go out through a StreamCoder
(lib/codecs/stream_coder.py): byte planes or bins. Layout: docs/format.md.
"""
from collections import namedtuple
from itertools import accumulate

import numpy as np

from lib.bitstream.varint import (
    encode_varints, read_varint_list, zigzag_decode, zigzag_decode_int, zigzag_encode,
)
from lib.codecs.bins.batched import bins_stream, bins_stream_parts
from lib.codecs.byte_planes import DEFLATE, LZMA1, PLANES, plane_coder
from lib.codecs.transforms import (
    centred_residuals, decode_delta_in_place, encode_delta, median_base, operate_per_block, to_signed64,
    unzigzag_in_place,
)
from lib.codecs.limits import SLICE_VALUES, cache_groups, check_count, is_long
from lib.codecs.stream_coder import compact, nonzero_slices, positions_of_runs, zero_runs
from lib.errors import FormatError

_U64 = np.uint64

GRID, DELTA_OF_DELTA_MODE, SPARSE_GRID, DELTA_MODE, CENTERED_DELTA_MODE = 0, 1, 2, 3, 4
MODE_NAMES = {GRID: "grid", DELTA_OF_DELTA_MODE: "delta-of-delta", SPARSE_GRID: "sparse grid",
              DELTA_MODE: "delta", CENTERED_DELTA_MODE: "centered delta"}
DELTA_MODES = (DELTA_MODE, CENTERED_DELTA_MODE)
MAX_SPAN = 1 << 62  # blocks whose timestamps span more are left to Gorilla


MODE_BINCOUNT_SPAN = 1 << 16  # values spanning less than this are counted with bincount, not sorted


def _mode(values):
    """The most common value, the smallest on a tie: [3, 1, 3, 1, 2] -> 1."""
    low = int(values.min())
    if int(values.max()) - low < MODE_BINCOUNT_SPAN:
        return low + int(np.argmax(np.bincount(values - low)))
    uniques, counts = np.unique(values, return_counts=True)
    return int(uniques[np.argmax(counts)])


def timestamp_units(timestamps):
    """(t0, unit, q) with timestamps == t0 + unit * q exactly, or None for spans of 2**62 and more."""
    timestamps = np.ascontiguousarray(timestamps, dtype=np.int64)
    if timestamps.size == 0:
        return None
    low, high = int(timestamps.min()), int(timestamps.max())
    if high - low >= MAX_SPAN:
        return None
    t0 = int(timestamps[0])
    offsets = timestamps - np.int64(t0)  # exact: |offset| < 2**62
    unit = int(np.gcd.reduce(offsets)) or 1
    return t0, unit, offsets // np.int64(unit)


def grid_streams(q):
    """(interval, shift, steps, jitter): q[i] == k[i] * interval + shift + jitter[i].

    The interval is the most common difference; k[i] is the nearest grid slot, so a missed scrape
    is a step of 2 slots and the jitter stays a few units either way. steps[i] = k[i] - k[i-1] - 1
    (0 for consecutive slots) with k[-1] = -1.
    """
    differences = np.diff(q)
    interval = _mode(differences) if differences.size else 1
    interval = interval if interval > 0 else 1
    slots = (q + np.int64(interval // 2)) // np.int64(interval)
    offsets = q - slots * np.int64(interval)
    shift = _mode(offsets)
    steps = np.diff(slots, prepend=np.int64(-1)) - 1
    return interval, shift, steps, offsets - np.int64(shift)


def encode_timestamp_units(timestamps, mode, compressors=(LZMA1, DEFLATE), coder=None):
    """int64 timestamps -> bytes of the timestamp-units codec in `mode`, or None when not applicable.

    The streams go out as byte planes through `compressors`, or through `coder` when given.

    Layout (docs/format.md, "Timestamp units", is normative): u8 mode, varint zigzag(t0), varint unit, then
      GRID:   varint interval, varint zigzag(shift), plane streams [zigzag(steps), zigzag(jitter)]
      SPARSE_GRID: varint interval, varint zigzag(shift), varint S, varint J (non-zero steps and
              jitters), plane streams [S + 1 zero runs, S steps, J + 1 zero runs, J jitters]
      DELTA_OF_DELTA_MODE: plane stream [zigzag(delta-of-delta of q)], the first entry being q[1] itself.
      DELTA_MODE: varint zigzag(base), plane stream [deltas of q minus base], base the smallest delta.
      CENTERED_DELTA_MODE: varint zigzag(base), plane stream [zigzag(deltas of q minus base)], base
              the median delta.
    """
    units = timestamp_units(timestamps)
    if units is None:
        return None
    write = (coder or plane_coder(compressors)).write
    if mode == SPARSE_GRID:
        t0, unit, q = units
        interval, shift, steps, jitter = grid_streams(q)
        streams, sizes = [], []
        for stream in (zigzag_encode(steps), zigzag_encode(jitter)):
            positions = np.flatnonzero(stream)
            streams += [zero_runs(positions, stream.size), stream[positions]]
            sizes.append(positions.size)
        return (_head(mode, t0, unit) + encode_varints([interval, int(zigzag_encode([shift])[0]), *sizes])
                + write(streams))
    head, streams = mode_parts(units, mode)
    return head + write(streams)


def _head(mode, t0, unit):
    return bytes((mode,)) + encode_varints([int(zigzag_encode([t0])[0]), unit])


def mode_parts(units, mode):
    """(the bytes before the streams, the streams) of a block in GRID mode, DELTA_OF_DELTA_MODE or
    one of the DELTA_MODES, from its `timestamp_units`: what `encode_timestamp_units` writes, for
    a chooser that sizes the streams before it writes any."""
    t0, unit, q = units
    head = _head(mode, t0, unit)
    if mode == GRID:
        interval, shift, steps, jitter = grid_streams(q)
        head += encode_varints([interval, int(zigzag_encode([shift])[0])])
        return head, [zigzag_encode(steps), zigzag_encode(jitter)]
    base, stream = delta_stream(np.diff(q), mode)
    if mode in DELTA_MODES:
        head += encode_varints([int(zigzag_encode([base])[0])])
    return head, [stream]


def delta_stream(deltas, mode):
    """(base, the stream) a delta mode stores for the deltas of q: DELTA_MODE the deltas minus the
    smallest (every stored value non-negative), CENTERED_DELTA_MODE zigzag(delta - the median),
    DELTA_OF_DELTA_MODE (0, zigzag(delta-of-delta)), its first entry the first delta itself."""
    if mode == DELTA_OF_DELTA_MODE:
        return 0, zigzag_encode(encode_delta(deltas))
    if not deltas.size:
        return 0, deltas.view(_U64)
    if mode == DELTA_MODE:
        base = int(deltas.min())
        return base, (deltas - np.int64(base)).view(_U64)  # exact: |q| < 2**62, so 0 <= delta - base < 2**63
    base = median_base(deltas)
    return base, centred_residuals(deltas, base)


def decode_timestamp_units(blob, count, coder=PLANES):
    """Inverse of `encode_timestamp_units`: `count` int64 timestamps."""
    blob = bytes(blob)
    mode, t0, unit, offset = _units_head(blob, count)
    if mode == GRID:
        (interval, zigzag_shift), offset = read_varint_list(blob, 2, offset)
        (steps, jitter), offset = coder.read_compact(blob, [count, count], offset)
    elif mode == SPARSE_GRID:
        interval, zigzag_shift, sizes, offset = _sparse_grid_head(blob, offset, count)
        (step_runs, steps, jitter_runs, jitter), offset = coder.read(blob, sizes, offset)
        steps = positions_of_runs(step_runs, steps, count)
        jitter = positions_of_runs(jitter_runs, jitter, count)
    elif mode in DELTA_MODES:
        (zigzag_base,), offset = read_varint_list(blob, 1, offset)
        (deltas,), offset = coder.read(blob, [count - 1], offset)
    else:
        (dods,), offset = coder.read(blob, [count - 1], offset)
    _check_end(blob, offset)
    if mode == DELTA_OF_DELTA_MODE:
        return _from_delta_of_delta(t0, unit, dods, count)
    if mode in DELTA_MODES:
        (timestamps,) = finish_deltas([DeltaParts(t0, unit, zigzag_decode_int(zigzag_base), count, deltas, mode)])
        return timestamps
    return grid_timestamps(t0, unit, interval, zigzag_decode_int(zigzag_shift), count, steps, jitter)


def _units_head(blob, count):
    """(mode, t0, unit, offset of what follows) of a timestamp-units block, checked."""
    check_count(count)
    if count == 0:
        raise FormatError("a timestamp-units block holds at least one timestamp")
    if not blob or blob[0] not in MODE_NAMES:
        raise FormatError("unknown or missing timestamp-units mode")
    (zigzag_t0, unit), offset = read_varint_list(blob, 2, 1)
    return blob[0], zigzag_decode_int(zigzag_t0), unit, offset


def _sparse_grid_head(blob, offset, count):
    """(interval, zigzag(shift), the four stream sizes, offset) of a SPARSE_GRID block."""
    (interval, zigzag_shift, step_count, jitter_count), offset = read_varint_list(blob, 4, offset)
    if step_count > count or jitter_count > count:
        raise FormatError(f"{step_count} steps, {jitter_count} jitters in a block of {count}")
    return interval, zigzag_shift, [step_count + 1, step_count, jitter_count + 1, jitter_count], offset


def _check_end(blob, offset):
    if offset != len(blob):
        raise FormatError(f"{len(blob) - offset} bytes of junk after a timestamp-units block")


def _from_delta_of_delta(t0, unit, dods, count):
    """t0 + unit * q, where q[0] = 0 and q[1:] are the running sums of the running sums of the
    unzigzagged `dods` (the decoder's own array, written over), all modulo 2**64."""
    deltas = decode_delta_in_place(unzigzag_in_place(dods))
    q = np.empty(count, dtype=np.int64)
    q[0] = 0
    q[1:] = decode_delta_in_place(deltas)
    q *= np.int64(to_signed64(unit))
    q += np.int64(to_signed64(t0))
    return q


def timestamp_units_decoder(blob, count):
    """`decode_timestamp_units` with bins streams, as a decoder for lib.codecs.bins.batched.drive.
    A grid block returns its parts (grid, steps, jitter) for `finish_grids`, a delta block its
    parts for `finish_deltas`, each computing many blocks' timestamps at once; a delta-of-delta
    block returns its timestamps."""
    blob = bytes(blob)
    mode, t0, unit, offset = _units_head(blob, count)
    if mode == GRID:
        (interval, zigzag_shift), offset = read_varint_list(blob, 2, offset)
        steps, offset = yield from bins_stream_parts(blob, offset, count)
        steps = compact(steps, count)  # before the jitter is decoded: never two large forms at once
        jitter, offset = yield from bins_stream_parts(blob, offset, count)
        jitter = compact(jitter, count)
    elif mode == SPARSE_GRID:
        interval, zigzag_shift, sizes, offset = _sparse_grid_head(blob, offset, count)
        streams = []
        for size in sizes:
            stream, offset = yield from bins_stream(blob, offset, size)
            streams.append(stream)
        steps = positions_of_runs(streams[0], streams[1], count)
        jitter = positions_of_runs(streams[2], streams[3], count)
    elif mode in DELTA_MODES:
        (zigzag_base,), offset = read_varint_list(blob, 1, offset)
        deltas, offset = yield from bins_stream(blob, offset, count - 1)
    else:
        dods, offset = yield from bins_stream(blob, offset, count - 1)
    _check_end(blob, offset)
    if mode == DELTA_OF_DELTA_MODE:
        return _from_delta_of_delta(t0, unit, dods, count)
    if mode in DELTA_MODES:
        return DeltaParts(t0, unit, zigzag_decode_int(zigzag_base), count, deltas, mode)
    return GridParts(t0, unit, interval, zigzag_decode_int(zigzag_shift), count, steps, jitter)


GridParts = namedtuple("GridParts", "t0 unit interval shift count steps jitter")
DeltaParts = namedtuple("DeltaParts", "t0 unit base count deltas mode")


def finish_deltas(blocks):
    """The timestamps of DELTA_MODE and CENTERED_DELTA_MODE blocks (DeltaParts, whose `deltas` are
    the decoder's own arrays, written over), one int64 array per block, in order, a group of
    blocks at a time: one running sum over all of them. Within a block each timestamp is the one
    before plus unit * (base + delta); a block's first increment is its t0 minus the last
    timestamp of the block before. All modulo 2**64. Example: t0 = 1000, unit 1, base 15, deltas
    [0, 1, 14]: increments [1000, 15, 16, 29], timestamps [1000, 1015, 1031, 1060]."""
    results = []
    for group in cache_groups([b.count for b in blocks]):
        results += _deltas_together([blocks[n] for n in group])
    return results


_FIRST = np.zeros(1, dtype=_U64)  # the place of a block's first increment


def _deltas_together(blocks):
    """`finish_deltas` of one group of blocks."""
    counts = [b.count for b in blocks]
    firsts = list(accumulate(counts[:-1], initial=0))
    deltas = [unzigzag_in_place(b.deltas) if b.mode == CENTERED_DELTA_MODE else b.deltas for b in blocks]
    increments = np.concatenate([part for d in deltas for part in (_FIRST, d)]).view(np.int64)
    operate_per_block(increments, [b.base for b in blocks], counts, np.add, 0, _int64s)
    operate_per_block(increments, [b.unit for b in blocks], counts, np.multiply, 1, _int64s)
    increments[firsts] = [to_signed64(block.t0) for block in blocks]
    timestamps = decode_delta_in_place(increments, np.array(firsts))  # one running sum, restarted at each t0
    return [timestamps[first:first + count] for first, count in zip(firsts, counts)]


def _int64s(numbers):
    """Python ints as the int64s they are modulo 2**64."""
    return np.array([to_signed64(number) for number in numbers], dtype=np.int64)


def finish_grids(grids):
    """`grid_timestamps` of many blocks: one int64 array per block, in order. Blocks whose steps
    and jitter are (positions, values) of a few non-zero entries (regular scrapes) are done
    together, a group at a time (`_grids_together`); any other block on its own."""
    results, together = [None] * len(grids), []
    for n, g in enumerate(grids):
        if isinstance(g.steps, tuple) and isinstance(g.jitter, tuple) and not is_long(g.count):
            together.append(n)
        else:
            results[n] = grid_timestamps(*g)
    for group in cache_groups([grids[n].count for n in together]):
        numbers = [together[i] for i in group]
        for n, timestamps in zip(numbers, _grids_together([grids[n] for n in numbers])):
            results[n] = timestamps
    return results


_POINTS = np.arange(SLICE_VALUES, dtype=np.int64)  # np.arange fills one value after another: made once


def _grids_together(grids):
    """`grid_timestamps` of many blocks at once, without a running sum over every point: between
    the places where slots were missed a block's timestamps rise by its step (unit * interval) per
    point, so the timestamp at point g of all the blocks laid end to end is the value its segment
    starts from plus step * g. A segment starts at each block's first point and at each missed
    slot; its value is the block's base (t0 + unit * shift) minus step * (the block's first point)
    plus step * (the slots missed in the block so far). Jitter is added after, where it is.
    Example, step 15: blocks [1000, 1015, 1045] (a slot missed at point 2) and [5000, 5015]:
    segments from points 0, 2, 3 start at 1000, 1015, 4955; plus 15 * [0, 1, 2, 3, 4]. Returns
    one int64 array per block, in order (all modulo 2**64)."""
    counts = [g.count for g in grids]
    firsts = np.array(list(accumulate(counts[:-1], initial=0)), dtype=np.int64)
    steps = np.array([to_signed64(g.unit * g.interval) for g in grids], dtype=np.int64)
    bases = np.array([to_signed64(g.t0 + g.unit * g.shift - g.unit * g.interval * first)
                      for g, first in zip(grids, firsts.tolist())], dtype=np.int64)
    starts, blocks, missed = firsts, np.arange(len(grids)), np.zeros(len(grids), dtype=np.int64)
    stepped = [n for n, g in enumerate(grids) if g.steps[0].size]
    if stepped:
        positions, missed_there, sizes = _gathered(grids, stepped, firsts, "steps")
        order = np.argsort(np.concatenate([starts, positions]), kind="stable")  # a block's start first
        starts = np.concatenate([starts, positions])[order]
        blocks = np.concatenate([blocks, np.repeat(stepped, sizes)])[order]
        missed = np.cumsum(np.concatenate([missed, missed_there])[order])
        missed -= missed[np.flatnonzero(order < len(grids))][blocks]  # counted from each block's start
    timestamps = np.repeat(bases[blocks] + steps[blocks] * missed, np.diff(starts, append=sum(counts)))
    points = _POINTS[:timestamps.size] if timestamps.size <= _POINTS.size else np.arange(timestamps.size)
    timestamps += points * (steps[0] if (steps == steps[0]).all() else np.repeat(steps, counts))
    jittered = [n for n, g in enumerate(grids) if g.jitter[0].size]
    if jittered:
        positions, jitter, sizes = _gathered(grids, jittered, firsts, "jitter")
        units = np.array([to_signed64(grids[n].unit) for n in jittered], dtype=np.int64)
        timestamps[positions] += jitter * np.repeat(units, sizes)
    return [timestamps[first:first + count] for first, count in zip(firsts.tolist(), counts)]


def _gathered(grids, numbers, firsts, field):
    """(positions in all blocks, unzigzagged values, count per block) of the non-zero steps or
    jitter (`field`) of the blocks `numbers`."""
    positions = np.concatenate([getattr(grids[n], field)[0] + firsts[n] for n in numbers])
    values = zigzag_decode(np.concatenate([getattr(grids[n], field)[1] for n in numbers]))
    return positions, values, [getattr(grids[n], field)[0].size for n in numbers]


def grid_timestamps(t0, unit, interval, shift, count, steps, jitter):
    """t0 + unit * (slots * interval + shift + unzigzag(jitter)) with slots = cumsum(unzigzag(steps)
    + 1) - 1, all modulo 2**64, as (t0 + unit * shift) + slots * (unit * interval) + unit * jitter.

    `steps` and `jitter` come as (positions, values) of their non-zero entries (regular scrapes
    miss few slots and jitter at few points) or as arrays of all `count` values (the two forms of
    lib.codecs.stream_coder.compact). The timestamps are built in one array: each point is one
    slot after the one before, plus the slots missed there; a running sum gives the slots, and the
    jitter is added where it is. numpy array arithmetic wraps modulo 2**64 like the encoder's.
    Example: t0 = 1000, unit 1, interval 15, shift 0, 3 points, no steps, jitter 1 at point 2
    (zigzag 2): slots [0, 1, 2], [1000, 1015, 1031].
    """
    timestamps = np.ones(count, dtype=np.int64)
    timestamps[:1] = 0
    _add_unzigzagged(timestamps, steps, 1)
    np.cumsum(timestamps, out=timestamps)
    timestamps *= np.int64(to_signed64(unit * interval))
    timestamps += np.int64(to_signed64(t0 + unit * shift))
    _add_unzigzagged(timestamps, jitter, to_signed64(unit))
    return timestamps


def _add_unzigzagged(target, stream, factor):
    """target += unzigzag(stream) * factor, modulo 2**64, where the stream is not zero; `stream` in
    either `compact` form."""
    for positions, values in nonzero_slices(stream):
        target[positions] += zigzag_decode(values) * np.int64(factor)
