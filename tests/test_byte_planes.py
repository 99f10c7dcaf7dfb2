import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from lib.bitstream.varint import encode_varints
from lib.codecs.byte_planes import DEFLATE, LZMA1, NONE, decode_planes, encode_planes
from lib.codecs.limits import MAX_COUNT
from lib.codecs.registry import decode_values_tagged
from lib.codecs.registry import DECIMAL_PLANES, ORDERED
from lib.codecs.timestamp_units import MODE_NAMES, decode_timestamp_units, encode_timestamp_units
from lib.codecs.decimal_planes import encode_decimal_planes
from lib.codecs.ordered import encode_ordered
from lib.codecs.transforms import floats_from_ordered, ordered_integers
from lib.errors import FormatError
from lib.plumbing.bounded_compression import deflate
from tests.conftest import MEMORY_COUNT, assert_decodes_within, traced_peak
from tests.test_timestamp_units import scrape_times

INT64 = np.iinfo(np.int64)
RNG = np.random.default_rng(7)


def u64(values):
    return np.asarray(values, dtype=np.uint64)


def test_worked_example_of_the_docstring():
    blob = encode_planes([u64([1, 0, 300])], compressors=())
    assert blob == bytes.fromhex("0200 00 06 000001 01002c")
    (stream,), end = decode_planes(blob, [3])
    assert stream.tolist() == [1, 0, 300] and end == len(blob)


@settings(max_examples=150, deadline=None)
@given(st.lists(hnp.arrays(np.uint64, st.integers(0, 300)), min_size=1, max_size=3),
       st.sampled_from([(), (LZMA1,), (DEFLATE,), (LZMA1, DEFLATE)]))
def test_planes_round_trip(streams, compressors):
    blob = encode_planes(streams, compressors)
    decoded, end = decode_planes(blob, [s.size for s in streams])
    assert end == len(blob)
    for original, back in zip(streams, decoded):
        np.testing.assert_array_equal(back, original)


def test_random_low_planes_are_stored_raw():
    noise = RNG.integers(0, 1 << 40, 1024, dtype=np.uint64)
    blob = encode_planes([noise])
    assert blob[0] == 5 and blob[1] >= 4  # width 5, the random low planes raw
    np.testing.assert_array_equal(decode_planes(blob, [1024])[0][0], noise)


def test_ordered_integers_keep_float_order_and_every_pattern():
    values = np.array([-np.inf, -1.0, -0.0, 0.0, 5e-324, 1.0, np.inf])
    assert (np.diff(ordered_integers(values)) > 0).all()
    patterns = np.array([0, 1 << 63, 0x7FF8000000000001, 0xFFF0000000000123, (1 << 64) - 1], dtype=np.uint64)
    back = floats_from_ordered(ordered_integers(patterns.view(np.float64)))
    np.testing.assert_array_equal(back.view(np.uint64), patterns)


float_patterns = hnp.arrays(np.uint64, st.integers(1, 80)).map(lambda a: a.view(np.float64))
decimal_like = st.lists(st.integers(-10**6, 10**6), min_size=1, max_size=80).map(
    lambda ints: np.array(ints, dtype=np.float64) / 100)


@settings(max_examples=150, deadline=None)
@given(float_patterns | decimal_like, st.sampled_from([(LZMA1,), (DEFLATE,), (LZMA1, DEFLATE)]))
def test_plane_value_codecs_round_trip(values, compressors):
    for tag, encode in ((ORDERED, encode_ordered), (DECIMAL_PLANES, encode_decimal_planes)):
        blob = encode(values, compressors)
        if blob is None:
            continue
        back = decode_values_tagged(tag, blob, values.size)
        np.testing.assert_array_equal(back.view(np.uint64), values.view(np.uint64))


def test_plane_value_codecs_keep_nan_payloads_and_negative_zero():
    values = np.array([1.5, -0.0, np.nan, 2.25, 0.0]).copy()
    values.view(np.uint64)[2] = 0x7FF8DEADBEEF0001
    for tag, encode in ((ORDERED, encode_ordered), (DECIMAL_PLANES, encode_decimal_planes)):
        back = decode_values_tagged(tag, encode(values), values.size)
        np.testing.assert_array_equal(back.view(np.uint64), values.view(np.uint64))


def damaged_versions(blob):
    yield b""
    for cut in range(1, len(blob)):
        yield blob[:cut]
    yield blob + b"\x00"
    for position in range(0, len(blob), max(1, len(blob) // 40)):
        for flip in (0x01, 0x80, 0xFF):
            damaged = bytearray(blob)
            damaged[position] ^= flip
            yield bytes(damaged)


def test_damaged_streams_raise_format_error_only():
    timestamps = scrape_times(300)
    values = np.round(RNG.normal(50, 5, 300), 2)
    cases = [(decode_timestamp_units, encode_timestamp_units(timestamps, mode), timestamps.size)
             for mode in sorted(MODE_NAMES)]
    cases += [(lambda b, n, tag=tag: decode_values_tagged(tag, b, n), encode(values), values.size)
              for tag, encode in ((ORDERED, encode_ordered), (DECIMAL_PLANES, encode_decimal_planes))]
    for decode, blob, count in cases:
        for damaged in damaged_versions(blob):
            try:
                out = decode(damaged, count)
            except FormatError:
                continue
            assert out.size == count  # a flipped payload byte may decode to other numbers


def test_counts_are_checked_before_allocating():
    blob = bytes((8, 0, NONE)) + b"\x00"
    with pytest.raises(FormatError):
        decode_planes(blob, [1 << 26])


def test_decimal_planes_worked_example():
    blob = encode_decimal_planes(np.array([1.5, 2.25, 3.0]), (DEFLATE,))
    # e 2, plain; g 75, zigzag(base 3) 6, no exceptions; width 1, no raw plane, stored, 3 bytes
    assert blob == bytes.fromhex("0200 4b0600 0100 00 03 010002")
    assert decode_values_tagged(DECIMAL_PLANES, blob, 3).tolist() == [1.5, 2.25, 3.0]




@pytest.mark.parametrize("count", [-1, MAX_COUNT + 1, 2**31, 2**62, 1.5, True, None])
def test_a_bad_count_is_refused_before_anything_is_allocated(count):
    width_zero = bytes((0, 0, NONE, 0))  # one stream of width 0: all zeros, whatever the count

    def attempt():
        with pytest.raises(FormatError):
            decode_planes(width_zero, [count])
        with pytest.raises(FormatError):
            decode_planes(width_zero[:2] + width_zero, [3, count])

    _, peak = traced_peak(attempt)
    assert peak < 1 << 20


@pytest.mark.parametrize("blob", [
    bytes((0, 0, NONE, 0)),  # width 0: four bytes for any count
    bytes((1, 0, NONE)) + encode_varints([MEMORY_COUNT]) + bytes(MEMORY_COUNT),  # one stored plane
    bytes((2, 1, DEFLATE)) + encode_varints([len(deflate(bytes(MEMORY_COUNT)))]) + deflate(bytes(MEMORY_COUNT))
    + bytes(MEMORY_COUNT),  # a compressed plane and a raw one
])
def test_a_decode_holds_about_its_result(blob):
    (stream,), _ = assert_decodes_within(lambda: decode_planes(blob, [MEMORY_COUNT]), 8 * MEMORY_COUNT,
                                         len(blob), results=2)
    assert stream.size == MEMORY_COUNT and not stream.any()


def test_a_random_looking_plane_is_stored_raw_from_64_values_on():
    # 64 distinct bytes: an entropy of log2(64) = 6 bits, the most 64 bytes can have: raw. One value
    # fewer says too little about the entropy: compressed with the rest (or not at all).
    values = np.arange(64, dtype=np.uint64) * 4 + 1
    assert encode_planes([values])[:2] == bytes([1, 1])
    assert encode_planes([values[:63]])[:2] == bytes([1, 0])


def test_a_compressor_that_saves_nothing_is_not_used():
    # Deflate makes these 21 plane bytes 21 bytes again (and LZMA 28): stored as they are.
    values = u64([6, 3, 5, 0, 0, 0, 1, 0, 5, 3, 0, 4, 5, 3, 2, 5, 1, 0, 0, 1, 5])
    assert len(deflate(values.astype(np.uint8).tobytes())) == 21
    blob = encode_planes([values])
    assert blob[2] == NONE and blob[3] == 21


def test_every_plane_may_be_raw_but_no_more_than_the_width():
    assert decode_planes(bytes((1, 1, NONE, 0, 42)), [1])[0][0].tolist() == [42]
    assert decode_planes(bytes((8, 8, NONE, 0)) + bytes(range(8)), [1])[0][0].tolist() == [0x0001020304050607]
    for header in ((1, 2), (9, 0)):
        with pytest.raises(FormatError, match="raw planes"):
            decode_planes(bytes(header) + bytes((NONE, 0)) + bytes(16), [1])
