import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from lib.codecs import gorilla
from lib.codecs.gorilla import (
    decode_timestamps, decode_timestamps_reference, decode_values, decode_values_reference, encode_timestamps,
    encode_timestamps_reference, encode_values, encode_values_reference, timestamp_encoding_stats,
    value_encoding_stats,
)
from lib.errors import FormatError
from tests.conftest import INT64_MAX, INT64_MIN, MEMORY_COUNT, assert_decodes_within, int64s, small_slices


def bits_to_bytes(bit_string):
    """'0100 1' -> b'\\x48': spaces are for reading only, the tail is zero-padded."""
    bits = bit_string.replace(" ", "")
    bits += "0" * (-len(bits) % 8)
    return int(bits, 2).to_bytes(len(bits) // 8, "big") if bits else b""


def field(value, width):
    """A value written out as `width` bits of two's complement."""
    return format(value % (1 << width), f"0{width}b")


def as_floats(patterns):
    return np.array(patterns, dtype=np.uint64).view(np.float64)


def float_patterns(values):
    return np.asarray(values, dtype=np.float64).view(np.uint64).tolist()


# (fast encoder, fast decoder, reference encoder, reference decoder)
TIMESTAMPS = (encode_timestamps, decode_timestamps, encode_timestamps_reference, decode_timestamps_reference)
VALUES = (encode_values, decode_values, encode_values_reference, decode_values_reference)


def assert_both_paths_write_and_read(codec, data, bit_string):
    """Both encoders write exactly `bit_string`; both decoders give `data` back bit for bit."""
    encode, decode, encode_reference, decode_reference = codec
    expected = bits_to_bytes(bit_string)
    assert encode_reference(data) == expected
    assert encode(data) == expected
    for decoder in (decode, decode_reference):
        assert decoder(expected, len(data)).view(np.uint64).tolist() == data.view(np.uint64).tolist()


# Every timestamp stream starts with the first timestamp in 64 bits, then (from two points on) the
# unit as a 6-bit length and the unit itself.
TIMESTAMP_VECTORS = [
    pytest.param(
        # The paper's block: 02:01:02 is 7262 s after midnight, then +62 s, +60 s, +60 s.
        # The deltas 62, 60, 60 share the unit 2, so in units: 31, 30, 30.
        # Delta-of-deltas: 31 - 0 = 31, 30 - 31 = -1, 0.
        [7262, 7324, 7384, 7444],
        field(7262, 64) + "000010 10" + "10 0011111" + "10 1111111" + "0",
        id="paper-block-seconds",
    ),
    pytest.param([0, 1], field(0, 64) + "000001 1" + "10 0000001", id="one-step"),
    pytest.param(
        # The delta wraps to -1: INT64_MAX - INT64_MIN = 2**64 - 1.
        [INT64_MIN, INT64_MAX],
        "1" + "0" * 63 + "000001 1" + "10 1111111",
        id="int64-extremes",
    ),
    pytest.param(
        # Deltas 4097, 4098 (unit 1): 4097 needs the escape, then +1.
        [0, 4097, 8195],
        field(0, 64) + "000001 1" + "1111" + field(4097, 64) + "10 0000001",
        id="escape",
    ),
    pytest.param(
        # Deltas 3, 259, -1788, -1852, -1788 -> dods 3, 256, -2047, -64, 64: each the edge of a class.
        [0, 3, 262, -1526, -3378, -5166],
        field(0, 64) + "000001 1" + "10 0000011" + "110 100000000" + "1110 100000000001"
        + "110 111000000" + "10 1000000",
        id="class-edges",
    ),
    pytest.param(
        # Nanoseconds carrying milliseconds: deltas 15000 ms and 15001 ms -> unit 10**6 ns
        # (20 bits long); then 15000 needs the escape and the change of 1 ms costs 9 bits.
        [10**12, 10**12 + 15_000_000_000, 10**12 + 30_001_000_000],
        field(10**12, 64) + "010100" + field(10**6, 20) + "1111" + field(15000, 64) + "10 0000001",
        id="millisecond-unit",
    ),
    pytest.param(
        # Exact 15 s scrapes: the unit is 15 s (34 bits), every delta is 1 unit.
        [0, 15 * 10**9, 30 * 10**9],
        field(0, 64) + "100010" + field(15 * 10**9, 34) + "10 0000001" + "0",
        id="whole-interval-unit",
    ),
    pytest.param(
        # The delta INT64_MIN has gcd 2**63, which does not fit 63 bits: unit 2**62, delta -2.
        [0, INT64_MIN],
        field(0, 64) + "111111" + "1" + "0" * 62 + "10 1111110",
        id="largest-unit",
    ),
    pytest.param([-5], field(-5, 64), id="single-point"),
    pytest.param([], "", id="empty"),
]


@pytest.mark.parametrize("timestamps, bit_string", TIMESTAMP_VECTORS)
def test_timestamp_known_vectors(timestamps, bit_string):
    assert_both_paths_write_and_read(TIMESTAMPS, np.array(timestamps, dtype=np.int64), bit_string)


TWELVE = 0x4028000000000000  # 1.5 * 2**3
VALUE_VECTORS = [
    pytest.param(
        # 12 -> 12: XOR 0, '0'.
        # 12 -> 24: XOR 0x0010000000000000, 11 leading zeros, 52 trailing, 1 meaningful bit: new window.
        # 24 -> 15: XOR 0x0016000000000000, 11 leading, 49 trailing (< 52): new window of 4 bits 1011.
        # 15 -> 12: XOR 0x0006000000000000, 13 leading, 49 trailing: fits, '10' + 4 bits 0011.
        [12.0, 12.0, 24.0, 15.0, 12.0],
        field(TWELVE, 64) + "0" + "11 01011 000001 1" + "11 01011 000100 1011" + "10 0011",
        id="small-changes",
    ),
    pytest.param(
        # XOR 1 has 63 leading zeros, clamped to 31, so the window is 33 bits.
        [0.0, 5e-324],
        field(0, 64) + "11 11111 100001" + field(1, 33),
        id="leading-zeros-clamped",
    ),
    pytest.param(
        # XOR of all 64 bits: a meaningful length of 64 is written as 0.
        as_floats([0, 2**64 - 1]),
        field(0, 64) + "11 00000 000000" + "1" * 64,
        id="meaningful-64",
    ),
    pytest.param(
        # -0.0 -> 0.0 flips the sign bit only: 0 leading zeros, 63 trailing, 1 bit.
        [-0.0, 0.0, 0.0],
        "1" + "0" * 63 + "11 00000 000001 1" + "0",
        id="negative-zero",
    ),
    pytest.param([1.0], field(0x3FF0000000000000, 64), id="single-point"),
    pytest.param([], "", id="empty"),
]


@pytest.mark.parametrize("values, bit_string", VALUE_VECTORS)
def test_value_known_vectors(values, bit_string):
    assert_both_paths_write_and_read(VALUES, np.asarray(values, dtype=np.float64), bit_string)


def test_decoders_return_numpy_arrays_of_the_right_dtype():
    assert decode_timestamps(encode_timestamps([1, 2, 3]), 3).dtype == np.int64
    assert decode_values(encode_values([1.5, 2.5]), 2).dtype == np.float64


SPECIAL_PATTERNS = [
    0x0000000000000000,  # 0.0
    0x8000000000000000,  # -0.0
    0x7FF0000000000000,  # +inf
    0xFFF0000000000000,  # -inf
    0x7FF8000000000000,  # quiet NaN
    0x7FF0000000000001,  # signalling NaN
    0xFFFFFFFFFFFFFFFF,  # NaN with every payload bit set
    0x7FF8DEADBEEF0001,  # NaN payload
    0x0000000000000001,  # smallest subnormal
    0x000FFFFFFFFFFFFF,  # largest subnormal
    0x3FF0000000000000,  # 1.0
    0x3FF0000000000001,  # 1.0 + ulp
]


@st.composite
def regular_timestamps(draw):
    start = draw(st.integers(-(10**18), 10**18))
    step = draw(st.sampled_from([1, 1000, 10**6, 15 * 10**9]))
    jitter = draw(st.lists(st.integers(-3000, 3000), max_size=40))
    unit = draw(st.sampled_from([1, 10**3, 10**6]))
    return [start + i * step * 1000 + j * unit for i, j in enumerate(jitter)]


timestamp_lists = st.one_of(
    st.lists(int64s, max_size=40),
    st.lists(st.sampled_from([INT64_MIN, INT64_MAX, 0, -1, 1]), max_size=40),
    regular_timestamps(),
)
value_pattern_lists = st.one_of(
    st.lists(st.integers(0, 2**64 - 1), max_size=40),
    st.lists(st.sampled_from(SPECIAL_PATTERNS), max_size=40),
    st.lists(st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=True), max_size=40).map(
        float_patterns
    ),
    st.lists(st.integers(-50, 50), max_size=40).map(lambda xs: float_patterns([x / 4 for x in xs])),
)


@settings(max_examples=250, deadline=None)
@given(timestamp_lists)
def test_timestamps_round_trip_and_fast_matches_reference(timestamps):
    ts = np.array(timestamps, dtype=np.int64)
    blob = encode_timestamps_reference(ts)
    assert encode_timestamps(ts) == blob
    assert decode_timestamps(blob, len(ts)).tolist() == timestamps
    assert decode_timestamps_reference(blob, len(ts)).tolist() == timestamps


@settings(max_examples=250, deadline=None)
@given(value_pattern_lists)
def test_values_round_trip_and_fast_matches_reference(patterns):
    floats = as_floats(patterns)
    blob = encode_values_reference(floats)
    assert encode_values(floats) == blob
    assert float_patterns(decode_values(blob, len(floats))) == patterns
    assert float_patterns(decode_values_reference(blob, len(floats))) == patterns


def adversarial_value_arrays(rng, size):
    ramp = np.arange(size)
    yield rng.integers(0, 2**64, size, dtype=np.uint64).view(np.float64)
    yield rng.choice(np.array(SPECIAL_PATTERNS, dtype=np.uint64), size).view(np.float64)
    yield 50.0 + rng.normal(0.0, 5.0, size)
    yield np.round(np.cumsum(rng.normal(0.0, 1.0, size)), 2)
    yield np.sin(ramp / 100.0)
    yield rng.poisson(100, size).astype(np.float64)
    yield np.full(size, 3.25)
    yield np.where(ramp % 2 == 0, 1.0, -1.0)  # alternating
    yield np.where(ramp % 3 == 0, 0.0, 2.0 ** -1074 * ramp)  # subnormals
    # Values whose XORs walk the window down and up, opening and reusing windows.
    yield (np.uint64(1) << rng.integers(0, 64, size).astype(np.uint64)).cumsum().view(np.float64)
    yield np.repeat(rng.normal(size=size // 50 + 1), 50)[:size]


def adversarial_timestamp_arrays(rng, size):
    ramp = np.arange(size, dtype=np.int64)
    yield rng.integers(INT64_MIN, INT64_MAX, size, dtype=np.int64, endpoint=True)
    yield 1_700_000_000_000_000_000 + (ramp * 15_000 + rng.integers(-50, 51, size)) * 10**6
    yield 1_700_000_000_000_000_000 + ramp * 15 * 10**9
    yield -ramp * 7  # decreasing
    yield np.full(size, 42, dtype=np.int64)  # all equal
    yield rng.choice(np.array([INT64_MIN, INT64_MAX, 0, -1], dtype=np.int64), size)
    yield np.cumsum(rng.integers(-(2**40), 2**40, size))  # huge jumps both ways
    yield ramp * 10**6 + np.where(rng.random(size) < 0.01, 10**15, 0)  # rare outliers


@pytest.mark.parametrize("size", [0, 1, 2, 3, 5000])
def test_fast_paths_match_reference_on_adversarial_arrays(size):
    rng = np.random.default_rng(size)
    for floats in adversarial_value_arrays(rng, size):
        blob = encode_values(floats)
        assert blob == encode_values_reference(floats)
        assert float_patterns(decode_values(blob, size)) == float_patterns(floats)
    for ts in adversarial_timestamp_arrays(rng, size):
        blob = encode_timestamps(ts)
        assert blob == encode_timestamps_reference(ts)
        assert decode_timestamps(blob, size).tolist() == ts.tolist()


@settings(max_examples=100, deadline=None)
@given(timestamp_lists, value_pattern_lists)
def test_the_fast_decoders_read_alike_a_few_records_at_a_time(timestamps, patterns):
    # Slices of 2 records: a '10' record often reuses a window opened in an earlier slice.
    timestamp_blob, value_blob = encode_timestamps(np.array(timestamps, dtype=np.int64)), encode_values(
        as_floats(patterns))
    with small_slices(2):
        assert decode_timestamps(timestamp_blob, len(timestamps)).tolist() == timestamps
        assert float_patterns(decode_values(value_blob, len(patterns))) == patterns


def test_a_window_carried_across_slices_is_the_last_one_opened():
    floats = np.array([1.0, 1.5, 1.25, 1.75, 1.125, 3.0, 3.5], dtype=np.float64)
    blob = encode_values(floats)
    for size in (1, 2, 3, 4):
        with small_slices(size):
            assert float_patterns(decode_values(blob, floats.size)) == float_patterns(floats)


def test_the_fast_decoders_hold_a_few_times_their_result():
    # A constant stream: the first value (or timestamp, unit 1 in "000001" "1"), then a '0' per point.
    values = bytes(8 + (MEMORY_COUNT - 1 + 7) // 8)
    timestamps = bytes(8) + b"\x06" + bytes((70 + MEMORY_COUNT + 7) // 8 - 9)
    decoded = assert_decodes_within(lambda: decode_values(values, MEMORY_COUNT), 8 * MEMORY_COUNT, len(values))
    assert decoded.size == MEMORY_COUNT and not decoded.any()
    decoded = assert_decodes_within(lambda: decode_timestamps(timestamps, MEMORY_COUNT), 8 * MEMORY_COUNT,
                                    len(timestamps))
    assert decoded.size == MEMORY_COUNT and not decoded.any()


def test_jittery_millisecond_timestamps_do_not_pay_for_nanoseconds():
    rng = np.random.default_rng(7)
    milliseconds = np.arange(1000) * 15_000 + rng.integers(-50, 51, 1000)
    in_ns = encode_timestamps(1_700_000_000_000_000_000 + milliseconds * 10**6)
    in_ms = encode_timestamps(1_700_000_000_000 + milliseconds)
    # Same delta-of-deltas; only the header (first timestamp, unit) may differ by a few bytes.
    assert abs(len(in_ns) - len(in_ms)) <= 4
    assert timestamp_encoding_stats(1_700_000_000_000_000_000 + milliseconds * 10**6)["unit"] == 10**6


DECODERS = [
    (decode_timestamps, encode_timestamps),
    (decode_timestamps_reference, encode_timestamps),
    (decode_values, encode_values),
    (decode_values_reference, encode_values),
]
SAMPLES = {
    encode_timestamps: np.array([0, 1000, 2003, 2999, 10**12, -5], dtype=np.int64),
    encode_values: np.array([1.0, 1.0, 2.5, -7.25, np.nan, 1e300, 3.0]),
}


@pytest.mark.parametrize("decode, encode", DECODERS)
def test_every_truncation_raises_format_error(decode, encode):
    sample = SAMPLES[encode]
    blob = encode(sample)
    for cut in range(len(blob)):
        with pytest.raises(FormatError):
            decode(blob[:cut], len(sample))


@pytest.mark.parametrize("decode, encode", DECODERS)
def test_trailing_bytes_raise_format_error(decode, encode):
    sample = SAMPLES[encode]
    with pytest.raises(FormatError, match="trailing"):
        decode(encode(sample) + b"\x00", len(sample))


@pytest.mark.parametrize("decode, encode", DECODERS)
@pytest.mark.parametrize("count", [-1, 2.0, None])
def test_invalid_counts_raise_format_error(decode, encode, count):
    with pytest.raises(FormatError):
        decode(encode(SAMPLES[encode]), count)


@pytest.mark.parametrize("decode, encode", DECODERS)
def test_absurd_count_is_refused_before_allocating(decode, encode):
    # 10**12 points would need 16 TB: the count check must come before any allocation.
    for blob in (b"", b"\x00" * 16):
        with pytest.raises(FormatError, match="cannot hold"):
            decode(blob, 10**12)


@pytest.mark.parametrize("decode", [decode_values, decode_values_reference])
@pytest.mark.parametrize(
    "bit_string, problem",
    [
        (field(0, 64) + "10 0000000", "before any window"),  # '10' with no window yet
        (field(0, 64) + "11 11111 101000" + "1" * 40, "exceeds 64"),  # 31 + 40 bits
    ],
)
def test_malformed_value_streams_raise_format_error(decode, bit_string, problem):
    with pytest.raises(FormatError, match=problem):
        decode(bits_to_bytes(bit_string), 2)


@pytest.mark.parametrize("decode", [decode_timestamps, decode_timestamps_reference])
@pytest.mark.parametrize(
    "bit_string",
    [
        field(0, 64) + "000000" + "0",  # unit of length 0
        field(0, 64) + "000010 01" + "0",  # unit 1 claiming 2 bits
    ],
)
def test_malformed_units_raise_format_error(decode, bit_string):
    with pytest.raises(FormatError, match="unit"):
        decode(bits_to_bytes(bit_string), 2)


def decode_outcome(decode, blob, count):
    try:
        return decode(blob, count).view(np.uint64).tolist()
    except FormatError:
        return "FormatError"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=40), st.integers(0, 80))
def test_garbage_gives_format_error_or_the_same_result_on_both_paths(blob, count):
    # Any other exception type (IndexError, TypeError, MemoryError, ...) fails this test.
    assert decode_outcome(decode_values, blob, count) == decode_outcome(
        decode_values_reference, blob, count
    )
    assert decode_outcome(decode_timestamps, blob, count) == decode_outcome(
        decode_timestamps_reference, blob, count
    )


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_damaged_streams_give_format_error_or_the_same_result_on_both_paths(data):
    # Flipping bits of a valid stream keeps its length plausible, so the decoders get far into it.
    for encode, fast, _, reference in (VALUES, TIMESTAMPS):
        sample = SAMPLES[encode]
        blob = bytearray(encode(sample))
        for bit in data.draw(st.lists(st.integers(0, 8 * len(blob) - 1), min_size=1, max_size=3)):
            blob[bit // 8] ^= 0x80 >> (bit % 8)
        assert decode_outcome(fast, bytes(blob), len(sample)) == decode_outcome(
            reference, bytes(blob), len(sample)
        )


def test_value_stats_count_the_bits_of_the_known_vector():
    # From the "small-changes" vector: 64 header bits; '0' = 1 bit; one reuse = 2 + 4 bits;
    # two new windows = 13 + 1 and 13 + 4 bits.
    stats = value_encoding_stats([12.0, 12.0, 24.0, 15.0, 12.0])
    assert stats["classes"] == {
        "same": {"count": 1, "bits": 1},
        "reuse window": {"count": 1, "bits": 6},
        "new window": {"count": 2, "bits": 31},
    }
    assert stats["header_bits"] == 64
    assert stats["total_bits"] == 102
    assert stats["xor_zero_share"] == 0.25
    assert stats["mean_meaningful_bits"] == 3.0  # (1 + 4 + 4) / 3


def test_timestamp_stats_count_the_bits_of_the_paper_block():
    stats = timestamp_encoding_stats([7262, 7324, 7384, 7444])
    assert stats["unit"] == 2
    assert stats["header_bits"] == 64 + 6 + 2
    assert stats["classes"]["zero"] == {"count": 1, "bits": 1}
    assert stats["classes"]["7-bit"] == {"count": 2, "bits": 18}
    assert stats["classes"]["64-bit escape"] == {"count": 0, "bits": 0}
    assert stats["total_bits"] == 91
    assert stats["dod_zero_share"] == pytest.approx(1 / 3)


@pytest.mark.parametrize("size", [0, 1, 2, 3000])
def test_stats_agree_with_the_encoded_size(size):
    rng = np.random.default_rng(3)
    for floats in adversarial_value_arrays(rng, size):
        stats = value_encoding_stats(floats)
        assert (stats["total_bits"] + 7) // 8 == len(encode_values(floats))
        assert sum(c["count"] for c in stats["classes"].values()) == max(size - 1, 0)
    for ts in adversarial_timestamp_arrays(rng, size):
        stats = timestamp_encoding_stats(ts)
        assert (stats["total_bits"] + 7) // 8 == len(encode_timestamps(ts))
        assert sum(c["count"] for c in stats["classes"].values()) == max(size - 1, 0)


def test_reference_and_fast_functions_are_distinct_implementations():
    # The identity tests above would be vacuous if the public API simply called the reference.
    assert gorilla.encode_values is not gorilla.encode_values_reference
    assert gorilla.decode_timestamps is not gorilla.decode_timestamps_reference


@pytest.mark.parametrize("decode, encode", DECODERS)
def test_no_points_means_no_bytes(decode, encode):
    assert decode(b"", 0).size == 0
    with pytest.raises(FormatError, match="trailing"):
        decode(b"\x00", 0)


@pytest.mark.parametrize("decode, encode", DECODERS)
def test_a_negative_count_is_refused_however_long_the_stream(decode, encode):
    with pytest.raises(FormatError, match="non-negative"):
        decode(encode(SAMPLES[encode]) + bytes(64), -1)


@pytest.mark.parametrize("dod", [63, 64, 65, -62, -63, -64, 255, 256, 257, -254, -255, -256, 2047, 2048, 2049,
                                 -2046, -2047, -2048])
def test_each_delta_of_delta_class_ends_where_its_field_does(dod):
    # An n-bit field holds -(2**(n-1) - 1)..2**(n-1): 7 bits -63..64, 9 bits -255..256, 12 bits -2047..2048.
    # Deltas 10001 (73 * 137, sharing no factor with any dod here), 10001 + dod, 10001: dods dod and -dod.
    timestamps = np.array([0, 10_001, 20_002 + dod, 30_003 + dod], dtype=np.int64)
    assert timestamp_encoding_stats(timestamps)["unit"] == 1
    blob = encode_timestamps_reference(timestamps)
    assert blob == encode_timestamps(timestamps)
    assert decode_timestamps_reference(blob, 4).tolist() == timestamps.tolist() == decode_timestamps(blob, 4).tolist()


def test_two_points_have_one_delta_of_delta_and_one_xor_to_count():
    assert timestamp_encoding_stats(np.array([5, 5], dtype=np.int64))["dod_zero_share"] == 1.0
    assert timestamp_encoding_stats(np.array([5, 6], dtype=np.int64))["dod_zero_share"] == 0.0
    assert value_encoding_stats(np.array([1.5, 1.5]))["xor_zero_share"] == 1.0
    assert value_encoding_stats(np.array([1.5, 2.5]))["xor_zero_share"] == 0.0
    assert value_encoding_stats(np.array([1.5]))["xor_zero_share"] == 0.0
