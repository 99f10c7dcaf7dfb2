"""lib/codecs/timestamp_units.py: timestamps as grid steps and jitter (or delta-of-delta) in their unit."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from lib.bitstream.varint import encode_varints
from lib.codecs.bins.batched import drive
from lib.codecs.bins import BINS
from lib.codecs.byte_planes import LZMA1, NONE, PLANES, encode_planes
from lib.codecs.limits import MAX_COUNT
from lib.codecs.timestamp_choice import encode_timestamps_best
from lib.codecs.registry import (
    batched_timestamp_decoder, decode_timestamps_tagged, finish_batched_timestamps,
)
from lib.codecs.stream_coder import compact, nonzero_of
from lib.codecs.registry import TIMESTAMP_BINS, TIMESTAMP_UNITS
from lib.codecs.timestamp_units import (
    DELTA_OF_DELTA_MODE, GRID, MODE_NAMES, SPARSE_GRID, decode_timestamp_units, encode_timestamp_units, grid_streams, grid_timestamps, timestamp_units, timestamp_units_decoder,
)
from lib.errors import FormatError
from tests.conftest import MEMORY_COUNT, assert_decodes_within, small_slices, traced_peak

INT64 = np.iinfo(np.int64)


def u64(values):
    return np.array(values, dtype=np.uint64)


def scrape_times(count, seed=0):
    rng = np.random.default_rng(seed)
    jitter = np.rint(rng.normal(0, 2, count)).astype(np.int64)
    jitter[np.abs(jitter) <= 2] = 0
    times = 1_704_067_200_000 + np.arange(count, dtype=np.int64) * 15_000 + jitter
    return np.delete(times, [count // 3, count // 2]) * 1_000_000



@pytest.mark.parametrize("mode", sorted(MODE_NAMES))
def test_units_modes_round_trip_scrapes(mode):
    timestamps = scrape_times(1024)
    blob = encode_timestamp_units(timestamps, mode)
    np.testing.assert_array_equal(decode_timestamp_units(blob, timestamps.size), timestamps)


def test_jittered_scrapes_beat_gorilla_and_regular_series_cost_almost_nothing():
    timestamps = scrape_times(1024)
    tag, blob = encode_timestamps_best(timestamps, exhaustive=True)
    assert tag == TIMESTAMP_UNITS and 8 * len(blob) < 2.5 * timestamps.size
    regular = np.arange(1024, dtype=np.int64) * 15_000_000_000 + 1_704_067_200_000_000_000
    tag, blob = encode_timestamps_best(regular, exhaustive=True)
    assert len(blob) <= 1024 // 8 and (decode_timestamps_tagged(tag, blob, 1024) == regular).all()


timestamp_arrays = hnp.arrays(np.int64, st.integers(1, 60),
                              elements=st.integers(INT64.min, INT64.max) | st.integers(-5, 5))


@settings(max_examples=200, deadline=None)
@given(timestamp_arrays, st.sampled_from(sorted(MODE_NAMES)))
def test_units_round_trip_any_int64(timestamps, mode):
    blob = encode_timestamp_units(timestamps, mode)
    if blob is None:  # spans of 2**62 and more are left to Gorilla
        assert int(timestamps.max()) - int(timestamps.min()) >= 1 << 62
        return
    np.testing.assert_array_equal(decode_timestamp_units(blob, timestamps.size), timestamps)


@pytest.mark.parametrize("timestamps", [
    [5], [5, 5], [5, 4], [INT64.min, INT64.min + 1], [INT64.max, INT64.max], [0, 0, 0, 7, 3],
    [INT64.min, INT64.max],
])
def test_timestamp_edge_cases(timestamps):
    timestamps = np.array(timestamps, dtype=np.int64)
    tag, blob = encode_timestamps_best(timestamps, exhaustive=True)
    np.testing.assert_array_equal(decode_timestamps_tagged(tag, blob, timestamps.size), timestamps)


def test_counts_and_modes_are_checked():
    with pytest.raises(FormatError):
        decode_timestamp_units(bytes((SPARSE_GRID,)) + b"\x00\x01\x01\x00\xff\xff\x03\x00", 10)
    with pytest.raises(FormatError):
        decode_timestamp_units(b"", 3)
    assert GRID != DELTA_OF_DELTA_MODE


def test_mode_is_the_most_common_value_and_the_smallest_on_a_tie():
    from lib.codecs.timestamp_units import _mode
    assert _mode(np.array([3, 1, 3, 1, 2], dtype=np.int64)) == 1
    assert _mode(np.array([-5, 7, 7], dtype=np.int64)) == 7
    extremes = np.array([np.iinfo(np.int64).min, np.iinfo(np.int64).max, np.iinfo(np.int64).max], dtype=np.int64)
    assert _mode(extremes) == np.iinfo(np.int64).max  # a span too wide to count: sorted instead


def grid_timestamps_reference(t0, unit, interval, shift, steps, jitter):
    """The grid formula written out with Python integers, modulo 2**64, point by point."""
    out, slot = [], -1
    for step, jit in zip(steps.tolist(), jitter.tolist()):
        slot += (step >> 1 ^ -(step & 1)) + 1
        value = (t0 + unit * (slot * interval + shift + (jit >> 1 ^ -(jit & 1)))) % (1 << 64)
        out.append(value - (1 << 64) if value >> 63 else value)
    return out


@settings(max_examples=200, deadline=None)
@given(st.integers(INT64.min, INT64.max), st.integers(0, 2**64 - 1), st.integers(0, 2**64 - 1),
       st.integers(INT64.min, INT64.max),
       st.lists(st.tuples(st.integers(0, 2**64 - 1) | st.just(0), st.integers(0, 2**64 - 1) | st.just(0)),
                min_size=1, max_size=30))
def test_grid_timestamps_follow_the_formula_modulo_2_64(t0, unit, interval, shift, points):
    steps, jitter = u64([p[0] for p in points]), u64([p[1] for p in points])
    expected = grid_timestamps_reference(t0, unit, interval, shift, steps, jitter)
    timestamps = grid_timestamps(t0, unit, interval, shift, len(points), nonzero_of(steps), nonzero_of(jitter))
    assert timestamps.tolist() == expected


def test_grid_timestamps_by_hand():
    none = nonzero_of(u64([0, 0, 0]))
    assert grid_timestamps(1000, 1, 15, 0, 3, none, nonzero_of(u64([0, 0, 2]))).tolist() == [1000, 1015, 1031]
    assert grid_timestamps(1000, 1, 15, 0, 3, nonzero_of(u64([0, 2, 0])), none).tolist() == [1000, 1030, 1045]


@settings(max_examples=100, deadline=None)
@given(st.integers(INT64.min, INT64.max), st.integers(0, 2**64 - 1), st.integers(0, 2**64 - 1),
       st.integers(INT64.min, INT64.max),
       st.lists(st.tuples(st.integers(0, 2**64 - 1) | st.just(0), st.integers(0, 2**64 - 1) | st.just(0)),
                min_size=1, max_size=30))
def test_grid_timestamps_take_either_form_of_a_stream_in_any_slices(t0, unit, interval, shift, points):
    steps, jitter = u64([p[0] for p in points]), u64([p[1] for p in points])
    expected = grid_timestamps_reference(t0, unit, interval, shift, steps, jitter)
    for step_form, jitter_form in ((steps, jitter), (nonzero_of(steps.copy()), jitter),
                                   (compact(steps.copy(), steps.size), compact(jitter.copy(), jitter.size))):
        with small_slices(2):
            timestamps = grid_timestamps(t0, unit, interval, shift, len(points), step_form, jitter_form)
        assert timestamps.tolist() == expected


@settings(max_examples=60, deadline=None)
@given(hnp.arrays(np.int64, st.integers(1, 40), elements=st.integers(-2**40, 2**40)),
       st.sampled_from(sorted(MODE_NAMES)))
def test_units_decode_alike_a_few_values_at_a_time(timestamps, mode):
    planes = encode_timestamp_units(timestamps, mode)
    bins = encode_timestamp_units(timestamps, mode, coder=BINS)
    with small_slices():
        np.testing.assert_array_equal(decode_timestamp_units(planes, timestamps.size), timestamps)
        np.testing.assert_array_equal(decode_timestamp_units(bins, timestamps.size, BINS), timestamps)
        decoders = [batched_timestamp_decoder(TIMESTAMP_BINS, bins, timestamps.size)]
        (batched,) = finish_batched_timestamps(drive(decoders))
    np.testing.assert_array_equal(batched, timestamps)


@pytest.mark.parametrize("count", [-1, MAX_COUNT + 1, 2**31, 2**62, 1.5, True, None])
def test_a_bad_count_is_refused_before_anything_is_allocated(count):
    deltas = bytes((DELTA_OF_DELTA_MODE, 0, 1, 0, 0, NONE, 0))  # delta-of-delta, one plane stream of width 0

    def attempt():
        with pytest.raises(FormatError):
            decode_timestamp_units(deltas, count)
        with pytest.raises(FormatError):
            drive([timestamp_units_decoder(bytes((DELTA_OF_DELTA_MODE, 0, 1)) + ONE_BIN, count)])

    _, peak = traced_peak(attempt)
    assert peak < 1 << 20


ONE_BIN = bytes((0, 0, 1, 0))  # a dense bins stream, one bin: every value 0
STEPS_AND_JITTER = encode_planes([np.ones(MEMORY_COUNT, dtype=np.uint64)] * 2, (LZMA1,))  # all 1, a few KB
ONES = bytes((0, 0, 1, 1))  # every value 1
ALL_NONZERO = bytes((1,)) + encode_varints([MEMORY_COUNT]) + bytes((0, 1, 0, 0, 1, 0))  # sparse: every value 1
HEAD = bytes((0, 1))  # t0 0, unit 1
GRID_HEAD = bytes((GRID,)) + HEAD + bytes((1, 0))  # interval 1, shift 0


@pytest.mark.parametrize("blob, coder, results", [
    (bytes((DELTA_OF_DELTA_MODE,)) + HEAD + bytes((0, 0, NONE, 0)), PLANES, 2),
    (bytes((DELTA_OF_DELTA_MODE,)) + HEAD + ONES, BINS, 2),
    (GRID_HEAD + STEPS_AND_JITTER, PLANES, 3),
    (GRID_HEAD + ONES + ONES, BINS, 3),
    (GRID_HEAD + ALL_NONZERO + ALL_NONZERO, BINS, 4),  # each stream as long as the block until it is made dense
    (bytes((SPARSE_GRID,)) + HEAD + bytes((1, 0)) + encode_varints([MEMORY_COUNT] * 2) + (ONE_BIN + ONES) * 2,
     BINS, 5),  # its four streams are read at once
])
def test_a_decode_holds_a_few_times_its_result(blob, coder, results):
    timestamps = assert_decodes_within(lambda: decode_timestamp_units(blob, MEMORY_COUNT, coder),
                                       8 * MEMORY_COUNT, len(blob), results)
    assert timestamps.size == MEMORY_COUNT
    if coder is BINS:
        batched = assert_decodes_within(
            lambda: finish_batched_timestamps(drive([batched_timestamp_decoder(TIMESTAMP_BINS, blob, MEMORY_COUNT)])),
            8 * MEMORY_COUNT, len(blob), results)
        np.testing.assert_array_equal(batched[0], timestamps)


def test_no_timestamps_have_no_units_and_blocks_of_none_are_refused():
    assert timestamp_units(np.zeros(0, dtype=np.int64)) is None
    assert encode_timestamp_units(np.zeros(0, dtype=np.int64), GRID) is None
    blob = encode_timestamp_units(np.array([10, 25, 40], dtype=np.int64), GRID, coder=BINS)
    assert decode_timestamp_units(blob, 3, BINS).tolist() == [10, 25, 40]
    with pytest.raises(FormatError, match="at least one"):
        decode_timestamp_units(blob, 0, BINS)


def test_a_span_below_2_to_the_62_has_units_and_one_of_2_to_the_62_none():
    assert timestamp_units(np.array([0, 2**62 - 1], dtype=np.int64)) is not None
    assert timestamp_units(np.array([0, 2**62], dtype=np.int64)) is None
    assert timestamp_units(np.array([-(2**61), 2**61], dtype=np.int64)) is None


def test_repeated_timestamps_sit_on_a_grid_of_one_unit():
    timestamps = np.array([5, 5, 5, 7], dtype=np.int64)  # the most common difference is 0
    interval, shift, steps, jitter = grid_streams(timestamps - 5)
    assert interval == 1
    for coder in (PLANES, BINS):
        blob = encode_timestamp_units(timestamps, GRID, coder=coder)
        np.testing.assert_array_equal(decode_timestamp_units(blob, 4, coder), timestamps)
