"""The delta and centered-delta modes of lib/codecs/timestamp_units.py: hand-computed streams, round
trips of any int64 timestamps one block and many blocks at a time, and the fast choice taking them."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from lib.codecs.bins import BINS, decode_bins
from lib.codecs.bins.batched import drive
from lib.codecs.timestamp_choice import (
    IRREGULAR_MODES, SHORTEST_FAST_TIMESTAMP_STREAM, encode_timestamps_best, fast_timestamp_candidates,
    irregular_mode_costs, worth_encoding,
)
from lib.codecs.registry import (
    TIMESTAMP_BINS, TIMESTAMP_UNITS, batched_timestamp_decoder, decode_timestamps_tagged, finish_batched_timestamps,
)
from lib.codecs.timestamp_units import (
    CENTERED_DELTA_MODE, DELTA_MODE, DELTA_OF_DELTA_MODE, GRID, encode_timestamp_units, mode_parts,
    timestamp_units,
)
from lib.errors import FormatError

INT64 = np.iinfo(np.int64)
EXAMPLE = np.array([1000, 1015, 1031, 1060], dtype=np.int64)


def test_delta_mode_stores_the_deltas_above_the_smallest():
    blob = encode_timestamp_units(EXAMPLE, DELTA_MODE, coder=BINS)
    # mode 3; zz(1000) = 2000 = D0 0F; unit 1 (the gcd of 0, 15, 31, 60); zz(15) = 30 = 1E
    assert blob[:5] == bytes.fromhex("03 D0 0F 01 1E")
    assert decode_bins(blob[5:], 3)[0].tolist() == [0, 1, 14]  # deltas 15, 16, 29 minus 15
    assert decode_timestamps_tagged(TIMESTAMP_BINS, blob, 4).tolist() == EXAMPLE.tolist()


def test_centered_delta_mode_stores_the_deltas_around_the_median_zigzagged():
    blob = encode_timestamp_units(EXAMPLE, CENTERED_DELTA_MODE, coder=BINS)
    assert blob[:5] == bytes.fromhex("04 D0 0F 01 20")  # the median delta 16, zz(16) = 32
    assert decode_bins(blob[5:], 3)[0].tolist() == [1, 0, 26]  # zz(-1), zz(0), zz(13)
    assert decode_timestamps_tagged(TIMESTAMP_BINS, blob, 4).tolist() == EXAMPLE.tolist()


def test_unit_and_any_base_decode_modulo_2_to_the_64():
    # Written by hand: t0 = -4 (zz 7), unit 3, base 20 (zz 40) although the smallest delta is 1:
    # stored values wrap, 1 - 20 = 2**64 - 19.
    stream = BINS.write([np.array([2**64 - 19, 0, 2**64 - 20], dtype=np.uint64)])
    blob = bytes((DELTA_MODE, 7, 3, 40)) + stream
    assert decode_timestamps_tagged(TIMESTAMP_BINS, blob, 4).tolist() == [-4, -1, 59, 59]
    (batched,) = finish_batched_timestamps(drive([batched_timestamp_decoder(TIMESTAMP_BINS, blob, 4)]))
    assert batched.tolist() == [-4, -1, 59, 59]


@pytest.mark.parametrize("mode", [DELTA_MODE, CENTERED_DELTA_MODE])
@pytest.mark.parametrize("timestamps", [
    [5], [5, 5], [5, 4], [9, 5, 1, -7], [0, 0, 0, 7, 3], [INT64.min, INT64.min + 1], [INT64.max, INT64.max],
    [INT64.max - (1 << 62) + 1, INT64.max], [INT64.min + (1 << 62) - 1, INT64.min],
])
def test_edge_cases_round_trip_under_both_tags(mode, timestamps):
    timestamps = np.array(timestamps, dtype=np.int64)
    for tag, blob in ((TIMESTAMP_BINS, encode_timestamp_units(timestamps, mode, coder=BINS)),
                      (TIMESTAMP_UNITS, encode_timestamp_units(timestamps, mode))):
        assert decode_timestamps_tagged(tag, blob, timestamps.size).tolist() == timestamps.tolist()


def test_a_delta_block_missing_its_base_or_stream_is_refused():
    blob = encode_timestamp_units(EXAMPLE, DELTA_MODE, coder=BINS)
    for damaged in (blob[:4], blob[:-1], blob + b"\x00"):
        with pytest.raises(FormatError):
            decode_timestamps_tagged(TIMESTAMP_BINS, damaged, 4)


blocks = st.lists(hnp.arrays(np.int64, st.integers(1, 40), elements=st.integers(INT64.min, INT64.max)
                             | st.integers(-(1 << 61), 1 << 61) | st.integers(-5, 5)), min_size=1, max_size=6)


@settings(max_examples=150, deadline=None)
@given(blocks, st.lists(st.sampled_from([DELTA_MODE, CENTERED_DELTA_MODE]), min_size=6, max_size=6))
def test_many_delta_blocks_decode_together_as_each_alone(timestamp_blocks, modes):
    encoded = [(block, encode_timestamp_units(block, mode, coder=BINS)) for block, mode in zip(timestamp_blocks, modes)]
    encoded = [(block, blob) for block, blob in encoded if blob is not None]  # spans of 2**62 and more
    decoders = [batched_timestamp_decoder(TIMESTAMP_BINS, blob, block.size) for block, blob in encoded]
    for (block, blob), batched in zip(encoded, finish_batched_timestamps(drive(decoders))):
        assert batched.tolist() == block.tolist()
        assert decode_timestamps_tagged(TIMESTAMP_BINS, blob, block.size).tolist() == block.tolist()


@settings(max_examples=100, deadline=None)
@given(hnp.arrays(np.int64, st.integers(0, 60), elements=st.integers(INT64.min, INT64.max) | st.integers(-5, 5)))
def test_the_fast_choice_round_trips_any_int64_and_writes_no_stream_shorter_than_it_says(timestamps):
    tag, blob = encode_timestamps_best(timestamps)
    assert decode_timestamps_tagged(tag, blob, timestamps.size).tolist() == timestamps.tolist()
    if timestamps.size:  # a reference shorter than this is written without encoding the block
        assert min(len(b) for _, b in fast_timestamp_candidates(timestamps)) >= SHORTEST_FAST_TIMESTAMP_STREAM


def test_events_at_random_moments_take_the_delta_mode():
    rng = np.random.default_rng(5)
    events = 1_700_000_000_000 + np.cumsum(rng.exponential(2000, 1000).astype(np.int64))
    candidates = fast_timestamp_candidates(events)
    # the grid's bit lengths (jitter up to half an interval) are above the delta mode's: only it is written
    assert [blob[0] for _, blob in candidates] == [DELTA_MODE]
    tag, blob = encode_timestamps_best(events)
    assert (tag, blob) == candidates[0]
    assert len(blob) < len(encode_timestamp_units(events, GRID, coder=BINS))


def test_a_grid_that_may_be_good_enough_is_written_first():
    timestamps = 15_000 * np.arange(1000, dtype=np.int64)
    timestamps[500:] += 15_000  # one missed scrape
    assert [blob[0] for _, blob in fast_timestamp_candidates(timestamps)] == [GRID]


def mode_costs(timestamps):
    units = timestamp_units(np.array(timestamps))
    return irregular_mode_costs({mode: mode_parts(units, mode) for mode in IRREGULAR_MODES})


def modes_worth_encoding(timestamps):
    return worth_encoding(mode_costs(timestamps))


def test_the_estimate_keeps_the_modes_within_5_percent_of_the_least_bits():
    # deltas [3, 1, 896]: 12 bits above the smallest, 13 around the median, 16 as delta-of-delta
    assert mode_costs([0, 3, 4, 900]) == {
        DELTA_MODE: 12, CENTERED_DELTA_MODE: 13, DELTA_OF_DELTA_MODE: 16}
    assert modes_worth_encoding([0, 3, 4, 900]) == [DELTA_MODE]
    # [0, 10, 40, 50, 80]: unit 10, deltas [1, 3, 1, 3]; above the smallest [0, 2, 0, 2], 4 bits;
    # around the median 3, zz([-2, 0, -2, 0]) = [3, 0, 3, 0], 4 bits; as dod zz([1, 2, -2, 2]), 10 bits
    assert modes_worth_encoding([0, 10, 40, 50, 80]) == [DELTA_MODE, CENTERED_DELTA_MODE]
    # deltas [7, 7, 8, 7]: above the smallest [0, 0, 1, 0], 1 bit; around the median 7, [0, 0, 2, 0],
    # 2 bits: more than 5% above 1
    assert modes_worth_encoding([0, 7, 14, 22, 29]) == [DELTA_MODE]
    assert worth_encoding({GRID: 105, DELTA_MODE: 100, CENTERED_DELTA_MODE: 106}) == [GRID, DELTA_MODE]


def test_us_jitter_with_a_few_slow_scrapes_takes_the_centered_delta_mode():
    rng = np.random.default_rng(6)
    delays = rng.integers(150, 900, 1000)
    delays[rng.random(1000) < 0.02] += 60_000  # a slow gather now and then: deltas far below the rest
    times = 10_000_000 * np.arange(1000) + delays
    tag, blob = encode_timestamps_best(times)
    assert (tag, blob[0]) == (TIMESTAMP_BINS, CENTERED_DELTA_MODE)
