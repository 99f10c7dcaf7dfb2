"""lib/codecs/choice.py, timestamp_choice.py and registry.py: which codec writes a block, every tag decodes
what it wrote, stages, damaged input, and what a decode holds at once."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from lib.bitstream.varint import encode_varints
from lib.codecs.bins import BINS, encode_bins
from lib.codecs.bins.batched import drive
from lib.codecs.choice import (
    PLANE_CODECS, BlockEstimates, encode_values_best, fast_value_candidates, smallest_without_dictionary,
    value_candidates,
)
from lib.codecs.decimal_bins import encode_decimal_bins
from lib.codecs.decimal_digits import ADJUSTED
from lib.codecs.decimal_planes import encode_decimal_planes
from lib.codecs.limits import MAX_COUNT, max_stream_bytes
from lib.codecs.ordered import encode_ordered
from lib.codecs.registry import (
    CONSTANT, DECIMAL, DECIMAL_BINS, DECIMAL_PLANES, DICTIONARY, FLOAT32_BINS, GORILLA, MULTIPLE_BINS, ORDERED,
    ORDERED_BINS, RUNS, STAGE_MASK, TIMESTAMP_BINS, TIMESTAMP_GORILLA, TIMESTAMP_UNITS, VALUE_CODECS,
    batched_timestamp_decoder, batched_value_decoder, decode_timestamps_tagged, decode_values_tagged,
    finish_batched_timestamps, finish_batched_values, tag_name,
)
from lib.codecs.stages import LZMA, STAGES, ZLIB
from lib.codecs import timestamp_choice
from lib.codecs.timestamp_choice import (
    IRREGULAR_MODES, encode_timestamps_best, fast_timestamp_candidates, irregular_mode_costs, worth_encoding,
)
from lib.codecs.timestamp_units import (
    CENTERED_DELTA_MODE, DELTA_MODE, DELTA_OF_DELTA_MODE, GRID, encode_timestamp_units, mode_parts,
    timestamp_units,
)
from lib.codecs.transforms import floats_from_ordered, ordered_integers
from lib.errors import FormatError
from lib.plumbing.bounded_compression import deflate
from tests.conftest import MEMORY_COUNT, assert_decodes_within, small_slices
from tests.test_decimal_bins import steps_from_one_and_a_half
from tests.value_checks import patterns, round_trip


RNG = np.random.default_rng(11)


# The registry --------------------------------------------------------------------------------------


def test_tags_and_names_are_unique_and_fit_their_masks():
    assert sorted(VALUE_CODECS) == [GORILLA, DECIMAL, CONSTANT, RUNS, ORDERED, DECIMAL_PLANES, ORDERED_BINS,
                                    DECIMAL_BINS, DICTIONARY, MULTIPLE_BINS, FLOAT32_BINS]
    assert len({codec.name for codec in VALUE_CODECS.values()}) == len(VALUE_CODECS)
    assert all(tag & STAGE_MASK == 0 for tag in VALUE_CODECS)
    assert all(flag & ~STAGE_MASK == 0 for flag in STAGES)
    assert tag_name(DECIMAL | ZLIB) == "decimal+zlib"
    assert tag_name(GORILLA | LZMA) == "gorilla+lzma"


# The choice ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("values, expected", [
    pytest.param(np.round(40 + RNG.normal(0, 4, 1024), 2), DECIMAL_BINS, id="two-decimals"),
    pytest.param(np.cumsum(RNG.poisson(800, 1024)).astype(np.float64), DECIMAL_BINS, id="counter"),
    # Full-precision floats: a 17-digit decimal plus adjustment steps (about 54 bits here) is larger
    # than their ordered bits' differences (about 52), so ordered-bins is tried, and wins.
    pytest.param(RNG.normal(0.1, 0.02, 1024), ORDERED_BINS, id="full-precision-noise"),
    pytest.param(np.cumsum(RNG.normal(0, 1e-300, 1024)), ORDERED_BINS, id="tiny-random-walk"),
    pytest.param(np.full(1024, 0.1 + 0.2), CONSTANT, id="constant"),
    pytest.param(np.full(10, np.nan), CONSTANT, id="constant-nan"),
    pytest.param(np.repeat(RNG.normal(size=8), 128), RUNS, id="runs-of-full-precision"),
])
def test_choice(values, expected):
    tag, _ = round_trip(values)
    assert tag == expected


def test_best_is_the_smallest_candidate():
    values = np.round(RNG.normal(10, 1, 500), 1)
    tag, blob = encode_values_best(values)
    assert len(blob) == min(len(b) for _, b in value_candidates(values))


def test_empty_block():
    tag, blob = round_trip(np.zeros(0))
    assert blob == b""


# Round trips ---------------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(hnp.arrays(np.uint64, st.integers(0, 60)), st.booleans())
def test_any_bit_patterns_round_trip(bits, exhaustive):
    round_trip(bits.view(np.float64), exhaustive)


@settings(max_examples=150, deadline=None)
@given(
    hnp.arrays(np.float64, st.integers(1, 60), elements=st.floats(-1e4, 1e4)),
    st.integers(0, 4),
    st.booleans(),
)
def test_decimal_looking_values_round_trip(values, digits, exhaustive):
    round_trip(np.round(values, digits), exhaustive)


@settings(max_examples=100, deadline=None)
@given(hnp.arrays(np.uint64, st.integers(1, 8)), st.integers(1, 40), st.booleans())
def test_repeated_patterns_round_trip(bits, repeat, exhaustive):
    round_trip(np.repeat(bits.view(np.float64), repeat), exhaustive)


def test_each_block_gets_the_codec_that_suits_it():
    blocks = [np.round(RNG.normal(50, 5, 1000), 2), np.cumsum(RNG.normal(0, 1e-300, 1000)),
              np.full(700, 0.1 + 0.2)]  # not a short decimal: CONSTANT beats DECIMAL here
    assert [tag_name(round_trip(block)[0]) for block in blocks] == ["decimal-bins", "ordered-bins", "constant"]


# The exhaustive stage ---------------------------------------------------------------------------------


def test_a_stage_is_used_only_when_smaller():
    cases = (np.round(RNG.normal(50, 5, 1024), 2), RNG.normal(size=1024), np.tile(RNG.normal(size=7), 150),
             np.full(1024, 0.1 + 0.2))  # constant: 8 bytes that no compressor can shrink
    branches = set()
    for values in cases:
        plain_tag, plain_blob = encode_values_best(values, exhaustive=False)
        tag, blob = round_trip(values, exhaustive=True)
        assert len(blob) <= len(plain_blob)
        if tag & STAGE_MASK or tag in PLANE_CODECS:
            assert len(blob) < len(plain_blob)
            branches.add("compressed")
        else:
            assert len(blob) == len(plain_blob) if tag == plain_tag else len(blob) < len(plain_blob)
            branches.add("plain")
    assert branches == {"compressed", "plain"}


def test_a_stage_wins_on_a_repeating_cycle():
    values = np.tile(RNG.normal(size=7), 150)  # no decimals, no runs, but a period zlib can see
    tag, blob = round_trip(values, exhaustive=True)
    assert tag & STAGE_MASK or tag in PLANE_CODECS
    assert 4 * len(blob) < len(encode_values_best(values)[1])


@pytest.mark.parametrize("stage", [ZLIB, LZMA])
def test_single_stage_can_be_chosen(stage):
    values = np.tile(RNG.normal(size=5), 100)
    tag, _ = round_trip(values, exhaustive=(stage,))
    assert tag & STAGE_MASK in (0, stage)
    with pytest.raises(ValueError):
        encode_values_best(values, exhaustive=(0x40,))


@pytest.mark.parametrize("stage", [ZLIB, LZMA])
def test_decompression_is_bounded(stage):
    bomb = STAGES[stage].compress(bytes(max_stream_bytes(10) + 1))
    with pytest.raises(FormatError):
        decode_values_tagged(DECIMAL | stage, bomb, 10)


@pytest.mark.parametrize("stage", [ZLIB, LZMA])
def test_damaged_compressed_streams_are_refused(stage):
    _, inner = encode_values_best(np.round(RNG.normal(50, 5, 200), 2))
    compressed = STAGES[stage].compress(inner)
    for bad in (compressed[: len(compressed) // 2], compressed + b"junk", b"\xff" * 20, b""):
        with pytest.raises(FormatError):
            decode_values_tagged(DECIMAL | stage, bad, 200)


# Damaged input ------------------------------------------------------------------------------------


@pytest.mark.parametrize("tag", [0, 5, 15, 0x30, 0x41, 0x80 | DECIMAL, 256, -1, True, "2", None, 2.0])
def test_unknown_tags_are_refused(tag):
    with pytest.raises(FormatError):
        decode_values_tagged(tag, b"", 0)
    with pytest.raises(FormatError):
        decode_timestamps_tagged(tag if tag != 0x80 | DECIMAL else 7, b"", 0)


def test_truncated_blocks_are_refused():
    cases = [
        np.round(RNG.normal(50, 5, 100), 2),
        RNG.normal(size=100),
        np.full(100, 3.25),
        np.repeat(RNG.normal(size=4), 25),
    ]
    for values in cases:
        tag, blob = encode_values_best(values)
        for end in range(len(blob)):
            with pytest.raises(FormatError):
                decode_values_tagged(tag, blob[:end], values.size)
        with pytest.raises(FormatError):
            decode_values_tagged(tag, blob + b"\x00", values.size)


@pytest.mark.parametrize("tag, blob, count", [
    (CONSTANT, bytes(8), 0),
    (CONSTANT, bytes(8), MAX_COUNT + 1),
    (RUNS, bytes([2, 3, 3]) + bytes(16), 5),  # runs add up to 6, not 5
    (RUNS, bytes([1, 0]) + bytes(8), 0),  # a run of length 0
    (RUNS, bytes([0xFF, 0xFF, 0x03]), 5),  # more runs than values
    (GORILLA, bytes(3), 2),
])
def test_malformed_small_codecs_are_refused(tag, blob, count):
    with pytest.raises(FormatError):
        decode_values_tagged(tag, blob, count)


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(sorted(VALUE_CODECS) + [c | ZLIB for c in VALUE_CODECS]),
    st.binary(max_size=48),
    st.integers(0, 100),
)
def test_garbage_decodes_or_raises_format_error(tag, blob, count):
    try:
        values = decode_values_tagged(tag, blob, count)
    except FormatError:
        return
    assert values.size == count


# Timestamps ---------------------------------------------------------------------------------------


def test_regular_timestamps_stay_gorilla_at_about_a_bit_per_point():
    timestamps = 1_700_000_000_000_000_000 + np.arange(1000, dtype=np.int64) * 15_000_000_000
    tag, blob = encode_timestamps_best(timestamps, exhaustive=True)
    np.testing.assert_array_equal(decode_timestamps_tagged(tag, blob, timestamps.size), timestamps)
    assert 8 * len(blob) <= 1000 + 128


@settings(max_examples=100, deadline=None)
@given(hnp.arrays(np.int64, st.integers(0, 60)), st.booleans())
def test_timestamps_round_trip(timestamps, exhaustive):
    tag, blob = encode_timestamps_best(timestamps, exhaustive=exhaustive)
    assert tag & ~STAGE_MASK == TIMESTAMP_GORILLA or tag == (TIMESTAMP_UNITS if exhaustive else TIMESTAMP_BINS)
    np.testing.assert_array_equal(decode_timestamps_tagged(tag, blob, timestamps.size), timestamps)



def test_damaged_fast_codec_streams_raise_format_error_or_give_count_values():
    decimals = np.round(RNG.normal(50, 5, 200), 2)
    cases = [
        (DECIMAL_BINS, floats_from_ordered(ordered_integers(decimals) + RNG.choice([-1, 0, 1], 200))),
        (DICTIONARY, np.repeat(decimals[:5], 40)),
        (ORDERED_BINS, np.cumsum(RNG.normal(0, 1e-300, 200))),
    ]
    for tag, values in cases:
        blob = VALUE_CODECS[tag].encode(values)
        for damaged in [blob[:n] for n in range(len(blob))] + [
                bytes(b ^ flip if i == position else b for i, b in enumerate(blob))
                for position in range(len(blob)) for flip in (0x01, 0x80)]:
            try:
                decoded = decode_values_tagged(tag, damaged, values.size)
            except FormatError:
                continue
            assert decoded.size == values.size


def test_damaged_units_bins_timestamps_raise_format_error_or_give_count_values():
    timestamps = np.cumsum(RNG.choice([15, 15, 15, 30, 14, 16], 300)).astype(np.int64) * 10**9
    tag, blob = encode_timestamps_best(timestamps)
    assert tag == TIMESTAMP_BINS
    for position in range(len(blob)):
        for flip in (0x01, 0x80, 0xFF):
            damaged = bytearray(blob)
            damaged[position] ^= flip
            try:
                decoded = decode_timestamps_tagged(tag, bytes(damaged), timestamps.size)
            except FormatError:
                continue
            assert decoded.size == timestamps.size


# What a decode holds at once -----------------------------------------------------------------------

ONE_BIN = bytes((0, 0, 1, 0))  # a dense bins stream, one bin: every value 0
ONES = bytes((0, 0, 1, 1))  # every value 1
ALL_NONZERO = bytes((1,)) + encode_varints([MEMORY_COUNT]) + bytes((0, 1, 0, 0, 1, 0))  # sparse: every value 1
DECIMAL_HEAD = bytes((2, 2)) + bytes((3, 0, 0))  # e 2, delta-of-delta; g 3, base 0, no exceptions


@pytest.mark.parametrize("tag, blob, results", [
    (CONSTANT, bytes(8), 1),
    (RUNS, bytes((1,)) + encode_varints([MEMORY_COUNT]) + bytes(8), 1),
    (GORILLA, bytes(8 + MEMORY_COUNT // 8), 3),  # the first value, then a '0' bit per repeat
    (DECIMAL, bytes((2, 2, 0)) + bytes((3, 0, 0, 0)), 2),  # width 0: every residual 0
    (DECIMAL_BINS, DECIMAL_HEAD + ONE_BIN, 2),
    (DECIMAL_BINS | ZLIB, deflate(DECIMAL_HEAD + ONE_BIN), 2),
    (DECIMAL_BINS, bytes((2, 2 | ADJUSTED)) + DECIMAL_HEAD[2:] + ONE_BIN + ONES, 3),
    (DECIMAL_BINS, bytes((2, 2 | ADJUSTED)) + DECIMAL_HEAD[2:] + ONE_BIN + ALL_NONZERO, 3),
    (DECIMAL_PLANES, DECIMAL_HEAD + bytes((0, 0, 0, 0)), 2),
    (ORDERED, bytes((2, 0)) + bytes((0, 0, 0, 0)), 2),
    (ORDERED_BINS, bytes((2, 0)) + ONES, 2),
    (DICTIONARY, bytes((1, CONSTANT, 8)) + bytes(8) + ONE_BIN, 2),
])
def test_a_decode_holds_a_few_times_its_result_whatever_the_count(tag, blob, results):
    values = assert_decodes_within(lambda: decode_values_tagged(tag, blob, MEMORY_COUNT), 8 * MEMORY_COUNT,
                                   len(blob), results)
    assert values.size == MEMORY_COUNT
    if tag == DECIMAL_BINS:
        (batched,) = assert_decodes_within(
            lambda: finish_batched_values(drive([batched_value_decoder(tag, blob, MEMORY_COUNT)])),
            8 * MEMORY_COUNT, len(blob), results)
        assert patterns(batched).tolist() == patterns(values).tolist()


@settings(max_examples=60, deadline=None)
@given(st.one_of(
    hnp.arrays(np.uint64, st.integers(1, 40)).map(lambda bits: bits.view(np.float64)),
    hnp.arrays(np.int64, st.integers(1, 40), elements=st.integers(-10**6, 10**6)).map(lambda ints: ints / 100),
    st.integers(1, 40).map(lambda n: steps_from_one_and_a_half(*RNG.integers(-3, 4, n))),
))
def test_every_codec_decodes_alike_a_few_values_at_a_time(values):
    candidates = value_candidates(values) + value_candidates(values, exhaustive=True)
    for tag, blob in candidates:
        with small_slices():
            decoded = decode_values_tagged(tag, blob, values.size)
            batched = finish_batched_values(drive([batched_value_decoder(tag, blob, values.size)]))[0]
        assert patterns(decoded).tolist() == patterns(values).tolist() == patterns(batched).tolist(), tag_name(tag)


# Boundaries of the small codecs and of the choice ------------------------------------------------


def test_a_runs_block_may_hold_as_many_runs_as_values():
    # Two runs of one value each: the most runs a block of two can hold (the writer never writes it).
    blob = bytes([2, 1, 1]) + np.array([1.5, 2.5]).view(np.uint64).astype("<u8").tobytes()
    assert decode_values_tagged(RUNS, blob, 2).tolist() == [1.5, 2.5]
    with pytest.raises(FormatError, match="runs"):
        decode_values_tagged(RUNS, bytes([3, 1, 1, 1]) + bytes(24), 2)


def test_runs_are_written_up_to_half_as_many_runs_as_values():
    from lib.codecs.runs import encode_runs
    assert encode_runs(np.array([1.5, 1.5, 2.5, 2.5])) is not None  # 2 runs, 4 values
    assert encode_runs(np.array([1.5, 1.5, 2.5, 2.5, 3.5])) is None  # 3 runs, 5 values


def test_a_dictionary_is_written_from_eight_values_on():
    from lib.codecs.dictionary import encode_dictionary
    assert encode_dictionary(np.array([1.5, 2.5] * 4), smallest_without_dictionary) is not None
    assert encode_dictionary(np.array([1.5, 2.5] * 4)[:7], smallest_without_dictionary) is None
    # the choice estimates a dictionary from eight values on (two distinct of eight: a quarter) ...
    assert BlockEstimates(np.array([1.5, 2.5] * 4)).dictionary == (1.0, 2)  # 1 bit a rank, 8 ranks
    assert BlockEstimates(np.array([1.5, 2.5] * 4)[:7]).dictionary is None
    # ... and writes one only where it can win: not here, where decimal-bins takes 13 bytes
    assert DICTIONARY not in dict(value_candidates(np.array([1.5, 2.5] * 4)))


def dictionary_block(count, size):
    """A dictionary block of `size` entries 1.5, 2.5, ... (a runs block of them) and `count` ranks
    counting down from size - 1 (a dense bins stream at precision 3, one bin per rank)."""
    entries = np.arange(size) + 1.5
    runs = bytes([size]) + bytes([1] * size) + entries.view(np.uint64).astype("<u8").tobytes()
    ranks = [min(size - 1, count - 1 - i) for i in range(count)]
    bins = encode_bins(np.array(ranks, dtype=np.uint64))
    return bytes([size, RUNS, len(runs)]) + runs + bins, entries[ranks].tolist()


@pytest.mark.parametrize("count, size", [(1, 1), (2, 2), (3, 2)])
def test_a_dictionary_may_have_one_entry_per_value(count, size):
    blob, expected = dictionary_block(count, size)
    assert decode_values_tagged(DICTIONARY, blob, count).tolist() == expected


def test_an_ordered_or_decimal_block_of_no_values_is_refused():
    ordered = encode_ordered(np.array([1.5, 2.5]), coder=BINS)
    decimal = encode_decimal_bins(np.array([1.5, 2.5]))
    planes = encode_decimal_planes(np.array([1.5, 2.5]))
    for tag, blob in ((ORDERED_BINS, ordered), (DECIMAL_BINS, decimal), (DECIMAL_PLANES, planes)):
        assert decode_values_tagged(tag, blob, 2).tolist() == [1.5, 2.5]
        with pytest.raises(FormatError, match="at least one value"):
            decode_values_tagged(tag, blob, 0)


def test_a_decimal_block_of_factor_0_is_refused_and_all_exceptions_are_read():
    nan = np.array([np.nan]).view(np.uint64).astype("<u8").tobytes()
    # e 0, plain; g 1, base 0, one exception; the residual stream; the exception at gap 0.
    all_exceptions = bytes([0, 0, 1, 0, 1]) + bytes([0, 0, 1, 0]) + bytes([0]) + nan
    assert np.isnan(decode_values_tagged(DECIMAL_BINS, all_exceptions, 1)).all()
    with pytest.raises(FormatError, match="common factor 0"):
        decode_values_tagged(DECIMAL_BINS, bytes([0, 0, 0]) + all_exceptions[3:], 1)


def test_minus_2_to_the_63_is_no_usable_decimal_for_the_adjusting_codec():
    from lib.codecs.decimal_digits import DIGIT_BITS, EXCEPTION_BITS
    from lib.codecs.decimal_bins import adjusted_exponent_costs, nearest_decimals
    values = np.array([-(2.0**63)])
    assert nearest_decimals(values, 0)[2].tolist() == [False]
    assert adjusted_exponent_costs(values)[0] == EXCEPTION_BITS
    assert adjusted_exponent_costs(values)[1] == DIGIT_BITS + EXCEPTION_BITS


def test_values_that_all_fit_at_exponent_18_keep_it():
    # 0.001000000000000003 is exactly 1000000000000003 / 10**18, 14 steps from 0.001: every value
    # fits at some exponent, so the plain rule chooses, and e = 18 costs less than an exception.
    from lib.codecs.decimal_digits import smallest_exponents
    from lib.codecs.decimal_bins import choose_adjusted_exponent
    values = np.array([0.001000000000000003])
    assert smallest_exponents(values).tolist() == [18]
    assert choose_adjusted_exponent(values) == 18


def test_a_block_of_max_count_values_is_written_and_one_more_refused(monkeypatch):
    from lib.codecs import choice, timestamp_choice
    monkeypatch.setattr(choice, "MAX_COUNT", 3)
    monkeypatch.setattr(timestamp_choice, "MAX_COUNT", 3)
    assert encode_values_best(np.ones(3)) and encode_timestamps_best(np.arange(3))
    with pytest.raises(ValueError, match="at most 3"):
        encode_values_best(np.ones(4))
    with pytest.raises(ValueError, match="at most 3"):
        encode_timestamps_best(np.arange(4))


def test_the_batched_timestamp_decoder_reads_every_timestamp_codec():
    timestamps = np.array([-(2**63), 2**63 - 1, 0], dtype=np.int64)  # a span too wide for units: Gorilla
    for tag, blob in ((TIMESTAMP_GORILLA, encode_timestamps_best(timestamps)[1]),
                      encode_timestamps_best(np.arange(5, dtype=np.int64) * 15)):
        count = 3 if tag == TIMESTAMP_GORILLA else 5
        (batched,) = finish_batched_timestamps(drive([batched_timestamp_decoder(tag, blob, count)]))
        np.testing.assert_array_equal(batched, decode_timestamps_tagged(tag, blob, count))


def diffs(first, digits):
    """Timestamps from a first one and each difference minus 10, as digits: (15, "55") -> [15, 30, 45]."""
    return np.cumsum([first] + [10 + int(d) for d in digits]).astype(np.int64)


def smallest_units_mode(timestamps, modes=(GRID, DELTA_MODE, CENTERED_DELTA_MODE, DELTA_OF_DELTA_MODE)):
    """The mode whose block is smallest, each written in full (the first on a tie)."""
    sizes = [len(encode_timestamp_units(timestamps, mode, coder=BINS)) for mode in modes]
    return modes[sizes.index(min(sizes))]


@pytest.mark.parametrize("timestamps", [
    # 41 points, jitter of 1 at four: the grid's streams have 40 bits of bit lengths (82 allowed)
    # and its 27 bytes are under the 32-byte allowance for its header. Good enough, so written,
    # though the delta mode would take 17 bytes: the search stops at a grid that is good enough.
    diffs(15, "5555645555555555555565555555554655555555"),
    15 * np.arange(40) + np.tile([0, 0, 1, 0, 0, 0, 0, -1], 5),  # 15 bits of jitter, 80 allowed
    15 * np.arange(200),  # a perfect grid: no step, no jitter
])
def test_a_grid_within_2_bits_a_point_is_written_alone(timestamps):
    timestamps = np.asarray(timestamps, dtype=np.int64)
    grid = encode_timestamp_units(timestamps, GRID, coder=BINS)
    assert fast_timestamp_candidates(timestamps) == [(TIMESTAMP_BINS, grid)]


@pytest.mark.parametrize("timestamps, mode, size", [
    # 24 points whose grid jitters by up to 7: 76 bits of bit lengths, over 48, so the grid is not
    # sized first, though its 38 bytes would pass the good-enough test (38 - 32 bytes is 2 bits a
    # point). It is sized with the delta modes (76 is within 2 bits a point of their least, 29),
    # and the delta mode's 20 bytes are written
    (np.cumsum([9, 8, 11, 8, 11, 9, 10, 9, 12, 11, 10, 9, 8, 8, 8, 10, 8, 11, 10, 11, 12, 9, 9, 8]), DELTA_MODE, 20),
    # 22 points, a missed scrape and a long run shifted by 12: the grid's 61 bits are over 44;
    # centered deltas take 15 bytes, the grid 37 (deltas above the smallest take 15 bytes too, but
    # their 36 bits of bit lengths are not within 5% of the centered deltas' 14: not sized)
    (diffs(15, "553353553555555775555"), CENTERED_DELTA_MODE, 15),
])
def test_a_grid_whose_bit_lengths_are_over_2_a_point_is_not_written_alone(timestamps, mode, size):
    timestamps = np.asarray(timestamps, dtype=np.int64)
    found = fast_timestamp_candidates(timestamps)
    assert found == [(TIMESTAMP_BINS, encode_timestamp_units(timestamps, mode, coder=BINS))]
    every_mode = [len(encode_timestamp_units(timestamps, m, coder=BINS)) for m in (GRID, *IRREGULAR_MODES)]
    assert len(found[0][1]) == size == min(every_mode)


@pytest.mark.parametrize("timestamps, mode", [
    # 156 points: a 76-byte grid, 352 bits beyond its header, more than 312; the centered delta is
    # the smallest the estimate lets through (the deltas are 15 but for 20 of them within 5 of it,
    # and one of 13, so their zigzags around 15 are mostly 0).
    (diffs(15, "5555555555555555555555555455555555556355555555555555555755555555655485555555552555585555555555"
               "2553555553555555555555555555575555577555555555245555555555555"), CENTERED_DELTA_MODE),
    # scrapes 15 s apart, 3 ms of jitter: the grid's bit lengths (over 2 a point) say it is not good
    # enough; sized, it is still smaller than the delta modes
    (1_700_000_000_000 + 15_000 * np.arange(3000) + np.random.default_rng(0).integers(-3, 4, 3000), GRID),
    # eight events: the grid's bit lengths are the least, but sized it is larger than the delta mode
    (np.array([0, 379439057, 385302938, 819907245, 859356602, 1012049807, 1059618171, 1376156893]), DELTA_MODE),
])
def test_otherwise_the_smallest_of_the_grid_and_the_modes_is_written_alone(timestamps, mode):
    timestamps = np.asarray(timestamps, dtype=np.int64)
    found = fast_timestamp_candidates(timestamps)
    assert [blob[0] for _, blob in found] == [mode]
    assert found[0][1] == encode_timestamp_units(timestamps, mode, coder=BINS)
    units = timestamp_units(timestamps)
    considered = worth_encoding(irregular_mode_costs({m: mode_parts(units, m) for m in IRREGULAR_MODES}))
    assert smallest_units_mode(timestamps, (GRID, *considered)) == mode  # each of them written in full


def test_streams_with_few_non_zero_values_are_surely_within_a_bound():
    # 64 bits a non-zero value at most: one in 32 timestamps fits 2 bits a timestamp, one in 31 not
    head = b""
    one_in_32 = (head, [np.zeros(32, dtype=np.uint64), np.array([0] * 31 + [5], dtype=np.uint64)])
    one_in_31 = (head, [np.zeros(31, dtype=np.uint64), np.array([0] * 30 + [5], dtype=np.uint64)])
    assert timestamp_choice.surely_within(one_in_32, 2 * 32)
    assert not timestamp_choice.surely_within(one_in_31, 2 * 31)
    assert timestamp_choice.stream_bits(one_in_31) == 3  # 5 is 3 bits: within, but not surely so


def test_a_grid_whose_bit_lengths_are_far_above_the_modes_is_not_sized(monkeypatch):
    # scrapes 15 s apart in ns with up to 50 us of jitter: the grid's streams hold 25.4 bits a point
    # of bit lengths, the delta modes' 16.0 to 16.9; the grid's are more than 2 a point, and more
    # than GRID_SLACK_BITS a point above the modes' least, so its streams are never planned, and
    # the block written is still the smallest of all four modes written in full
    rng = np.random.default_rng(4)
    timestamps = 1_700_000_000 * 10**9 + 15 * 10**9 * np.arange(2000) + rng.integers(-50_000, 50_000, 2000)
    sized = []
    real_planned = timestamp_choice.planned
    monkeypatch.setattr(timestamp_choice, "planned", lambda parts: sized.append(parts[0][0]) or real_planned(parts))
    found = fast_timestamp_candidates(timestamps)
    assert sized and GRID not in sized
    assert found[0][1][0] == smallest_units_mode(timestamps)
    assert found[0][1] == encode_timestamp_units(timestamps, found[0][1][0], coder=BINS)


def test_a_grid_within_the_modes_bit_lengths_is_written_without_sizing_them(monkeypatch):
    # 1,000 scrapes 15 s apart, 400 of them off by 5 to 8 ms either way: the grid's bit lengths
    # (1,648) say it could be good enough, but sized it is 308 bytes, more than 2 bits a point
    # beyond its header. Its 2,464 bits are still within the delta modes' least bit lengths
    # (centered deltas, 2,539), and bins rarely take fewer bits than a stream's bit lengths: the
    # grid is written, and the modes (493 bytes and more, written in full) are not sized
    rng = np.random.default_rng(104)
    magnitudes = rng.integers(5, 9, 1000) * rng.choice([-1, 1], 1000)
    timestamps = 15_000 * np.arange(1000) + np.where(rng.random(1000) < 0.377, magnitudes, 0)
    sized = []
    real_planned = timestamp_choice.planned
    monkeypatch.setattr(timestamp_choice, "planned", lambda parts: sized.append(parts[0][0]) or real_planned(parts))
    grid = encode_timestamp_units(timestamps, GRID, coder=BINS)
    assert fast_timestamp_candidates(timestamps) == [(TIMESTAMP_BINS, grid)] and sized == [GRID]
    assert len(grid) == 308 and smallest_units_mode(timestamps) == GRID


@pytest.mark.parametrize("runs, tried", [(8, False), (10, True)])
def test_a_dictionary_is_tried_when_its_estimate_undercuts_the_best_so_far(runs, tried):
    # 400 values, two NaN payloads alternating in `runs` runs: decimals would keep every NaN as an
    # exception, so the best so far is the runs block, 1 + runs + 8 * runs bytes: 73 for 8 runs, 91
    # for 10. A dictionary needs at least its 24 bytes of overhead, 1 bit a rank (400 / 8 = 50
    # bytes) and its two values at the best's bytes a value: 74.4 for 8 runs (not below 73), 74.5
    # for 10 (tried).
    a, b = np.array([0x7FF8000000000001, 0x7FF8000000000002], dtype=np.uint64).view(np.float64)
    values = np.tile(np.repeat([a, b], 400 // runs), runs // 2)
    candidates = dict(value_candidates(values))
    assert len(candidates[RUNS]) == 1 + 9 * runs and DECIMAL_BINS not in candidates
    assert (DICTIONARY in candidates) == tried


@pytest.mark.parametrize("points, every, decimal_bytes, tried", [(7, 4, 35, True), (9, 5, 34, False),
                                                                (11, 5, 44, False)])
def test_ordered_bins_are_tried_when_decimals_need_more_than_32_bits_a_value(points, every, decimal_bytes, tried):
    values = np.round(100 + 0.1 * (np.arange(points) % 10), 1)
    values[::every] = np.pi * np.arange(1, len(values[::every]) + 1)  # exceptions
    candidates = dict(value_candidates(values))
    assert len(candidates[DECIMAL_BINS]) == decimal_bytes  # 4 * 7 = 28 < 35; 34 <= 36; 44 <= 44
    assert (ORDERED_BINS in candidates) == tried


def test_of_the_two_adjusted_codecs_only_the_one_estimated_smaller_is_written():
    # Readings in steps of 1/3 as float32 (not decimals): multiple-bins finds k / 3 in float32 and
    # stores small deltas of k; float32-bins would store the float32s' own deltas, several bits more.
    ks = np.cumsum(np.random.default_rng(3).integers(-8, 9, 2000)) + 3000
    thirds = (ks / 3).astype(np.float32).astype(np.float64)
    tags = dict(fast_value_candidates(thirds))
    assert MULTIPLE_BINS in tags and FLOAT32_BINS not in tags
    # Continuous float32 readings: the only step near them is a decimal far finer than the walk's
    # moves (k / 10**7), whose integers need more bits than the float32s' own deltas.
    continuous = np.cumsum(np.random.default_rng(3).normal(0, 1, 2000)).astype(np.float32).astype(np.float64)
    tags = dict(fast_value_candidates(continuous))
    assert FLOAT32_BINS in tags and MULTIPLE_BINS not in tags
    for values in (thirds, continuous):  # and what is kept is what trying both would have kept
        both = [(tag, VALUE_CODECS[tag].encode(values)) for tag in (MULTIPLE_BINS, FLOAT32_BINS)]
        assert len(encode_values_best(values)[1]) <= min(len(blob) for _, blob in both if blob is not None)


def test_decimal_bins_is_not_written_when_its_nan_exceptions_alone_outweigh_the_best():
    # Stale markers: long runs of NaN between readings. Runs store the block in a few hundred
    # bytes; decimal-bins would keep each NaN as an exception of 9 bytes at least.
    values = np.full(4000, np.nan)
    values[::400] = np.arange(10) / 10
    tags = [tag for tag, _ in fast_value_candidates(values)]
    assert tags[0] == RUNS and DECIMAL_BINS not in tags
    assert 9 * np.count_nonzero(np.isnan(values)) > len(dict(fast_value_candidates(values))[RUNS])
    # A reading and NaN alternating (every other scrape stale): runs do poorly, a dictionary of two
    # values does well, and decimal-bins, with 2,000 exceptions, is skipped against its estimate.
    alternating = np.where(np.arange(4000) % 2, np.nan, 21.5)
    tags = dict(fast_value_candidates(alternating))
    assert DICTIONARY in tags and DECIMAL_BINS not in tags
    assert len(tags[DICTIONARY]) < len(VALUE_CODECS[DECIMAL_BINS].encode(alternating)) / 10


def test_ordered_bins_is_not_written_when_its_estimate_is_above_a_rate_stored_as_multiples():
    # rate() over 285 s: increases / 285 in full precision. multiple-bins stores the increases; the
    # ordered integers of the quotients would take about 45 bits a value more.
    rates = np.cumsum(np.random.default_rng(4).integers(0, 400, 3000)) / 285
    tags = [tag for tag, _ in fast_value_candidates(rates)]
    assert MULTIPLE_BINS in tags and ORDERED_BINS not in tags
    assert len(encode_values_best(rates)[1]) < len(VALUE_CODECS[ORDERED_BINS].encode(rates))


def test_ordered_planes_are_skipped_when_decimals_take_at_most_three_quarters_of_gorilla(monkeypatch):
    from lib.codecs import registry

    def sized(tag, length):
        return registry.Codec(tag, "fake", "", lambda values, *compressors: b"x" * length, None)

    values = np.array([1.5, 2.5])
    monkeypatch.setitem(registry.VALUE_CODECS, GORILLA, sized(GORILLA, 4))
    for decimal_bytes, tried in ((3, False), (4, True)):  # 3 <= 0.75 * 4
        monkeypatch.setitem(registry.VALUE_CODECS, DECIMAL, sized(DECIMAL, decimal_bytes))
        assert (ORDERED in dict(value_candidates(values, exhaustive=True))) == tried


def test_no_stage_is_run_over_the_plane_codecs(monkeypatch):
    from lib.codecs import choice
    seen = []
    real = choice.with_stages
    monkeypatch.setattr(choice, "with_stages", lambda candidates, *rest: seen.extend(candidates) or real(candidates, *rest))
    values = np.cumsum(RNG.normal(0, 1, 300))  # full precision: the plane codecs take part
    assert {ORDERED, DECIMAL_PLANES} <= set(dict(value_candidates(values, exhaustive=True)))
    encode_values_best(values, exhaustive=True)
    assert seen and not {tag for tag, _ in seen} & set(PLANE_CODECS)
