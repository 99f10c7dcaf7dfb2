"""The batched reader (lib/codecs/bins/batched.py and the finishers it feeds) against the per-block
reference decoders: the same arrays, bit for bit, on many multi-block files, and on damaged blocks
(whose CRC was fixed so the decoders see the damage) either FormatError or, where the reference
accepts the bytes too, exactly the reference's result."""
import zlib

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from lib.bitstream.varint import encode_varints
from lib.codecs.bins.batched import bins_stream, decode_dense_streams, drive
from lib.codecs.bins import decode_bins, encode_bins
from lib.codecs.bins.layout import DENSE
from lib.codecs.limits import MAX_COUNT
from lib.data.dataset import Series, canonical_order
from lib.data.generator import generate_dataset
from lib.errors import FormatError
from lib.storage import metrics_file
from lib.storage.metrics_file import BLOCK_HEADER, CRC, decode_block, decode_blocks_together, encode_block
from lib.storage.streaming_writer import write_file
from tests.conftest import MEMORY_COUNT, assert_decodes_within, awkward_dataset, small_slices, traced_peak
from tests.test_dataset import datasets
from tests.value_checks import same_bits


# Bins streams --------------------------------------------------------------------------------------


def test_two_dense_streams_decode_together_by_hand():
    # [0, 5, 4, 5] is the bins module's worked example (8 bytes); [7, 7] is one bin: no unary section.
    first = bytes.fromhex("0000020300017844")
    assert encode_bins(np.array([0, 5, 4, 5], dtype=np.uint64)) == first
    second = encode_bins(np.array([7, 7], dtype=np.uint64))
    blob = first + second
    (a, a_end), (b, b_end) = decode_dense_streams([(blob, 1, 4), (blob, len(first) + 1, 2)])
    assert a.tolist() == [0, 5, 4, 5] and a_end == len(first)
    assert b.tolist() == [7, 7] and b_end == len(blob)


stream_values = st.one_of(
    st.lists(st.integers(0, 3), max_size=300),  # peaked: several bins, rank splits
    st.lists(st.integers(0, 2**64 - 1), max_size=80),  # offsets too wide for the short reader
    st.lists(st.sampled_from([0, 0, 0, 0, 0, 0, 1, 9, 2**40]), max_size=400),  # sparse
    st.lists(st.integers(0, 2**20), max_size=1500),  # some long enough to go through the one-stream path
)


@settings(max_examples=60, deadline=None)
@given(st.lists(stream_values, min_size=1, max_size=8))
def test_many_bins_streams_decode_together_as_one_by_one(streams):
    blobs = [encode_bins(np.array(values, dtype=np.uint64)) for values in streams]
    blob = b"".join(blobs)
    starts = np.cumsum([0] + [len(b) for b in blobs]).tolist()
    together = drive([bins_stream(blob, start, len(values)) for start, values in zip(starts, streams)])
    for start, values, (decoded, end) in zip(starts, streams, together):
        reference, reference_end = decode_bins(blob, len(values), start)
        assert same_bits(decoded, reference) and end == reference_end
        assert decoded.tolist() == values


@settings(max_examples=30, deadline=None)
@given(st.lists(stream_values, min_size=1, max_size=8))
def test_streams_decode_alike_in_small_slices_and_groups(streams):
    # Slices of 3 values: cache groups of one value, so a batch of one stream each.
    blobs = [encode_bins(np.array(values, dtype=np.uint64)) for values in streams]
    blob = b"".join(blobs)
    starts = np.cumsum([0] + [len(b) for b in blobs]).tolist()
    with small_slices():
        together = drive([bins_stream(blob, start, len(values)) for start, values in zip(starts, streams)])
    for values, (decoded, end), start, length in zip(streams, together, starts, map(len, blobs)):
        assert decoded.tolist() == values and end == start + length


def rank_stream(rank):
    """Two values in two bins (keys 0 and 1): ranks 0 and `rank`, unary '1', '0' * rank + '1'."""
    return bytes([DENSE, 0x00, 2, 0, 1, 1, 0x80 | 0x40 >> rank])


def test_a_rank_one_beyond_its_streams_bins_is_refused_not_read_from_the_next_stream():
    after = bytes([DENSE, 0x00, 2, 1, 0, 1, 0xC0])  # keys 1 and 0, both values rank 0: [1, 1]
    for rank, expected in ((1, [0, 1]), (2, None)):
        blob = rank_stream(rank)[1:] + after[1:]
        requests = [(blob, 0, 2), (blob, len(rank_stream(rank)) - 1, 2)]
        if expected is None:
            with pytest.raises(FormatError, match="rank"):
                decode_dense_streams(requests)
        else:
            (first, _), (second, _) = decode_dense_streams(requests)
            assert first.tolist() == expected and second.tolist() == [1, 1]


@pytest.mark.parametrize("count", [-1, MAX_COUNT + 1, 2**31, 2**62, 1.5, None])
def test_a_bad_count_is_refused_by_the_batched_decoder_before_allocating(count):
    one_bin = bytes([DENSE, 0x00, 1, 0])

    def attempt():
        with pytest.raises(FormatError):
            decode_dense_streams([(one_bin, 1, count)])
        with pytest.raises(FormatError):
            drive([bins_stream(one_bin, 0, count)])

    _, peak = traced_peak(attempt)
    assert peak < 1 << 20


def test_a_long_stream_in_a_batch_holds_a_few_times_its_values():
    blob = bytes([DENSE, 0x00, 2, 0, 1]) + encode_varints([MEMORY_COUNT // 8]) + b"\xff" * (MEMORY_COUNT // 8)
    [(values, _)] = assert_decodes_within(lambda: drive([bins_stream(blob, 0, MEMORY_COUNT)]), 8 * MEMORY_COUNT,
                                          len(blob))
    assert values.size == MEMORY_COUNT and not values.any()


# Whole blocks -------------------------------------------------------------------------------------


@st.composite
def metric_like_series(draw):
    """A scrape-like series: grid timestamps with missed slots and jitter, and values that are
    decimals, decimals a ULP off, a few distinct values, constants or random bits."""
    n = draw(st.integers(0, 60))
    unit = draw(st.sampled_from([1, 1000, 1_000_000]))
    interval = draw(st.sampled_from([1, 15, 60_000]))
    slots = np.cumsum(draw(st.lists(st.sampled_from([1, 1, 1, 1, 2, 5]), min_size=n, max_size=n)))
    jitter = np.array(draw(st.lists(st.sampled_from([0, 0, 0, 1, -2, 7]), min_size=n, max_size=n)), dtype=np.int64)
    start = draw(st.integers(-2**40, 2**40))
    timestamps = start + (slots * interval + jitter).astype(np.int64) * unit
    kind = draw(st.sampled_from(["decimal", "ulp", "few", "constant", "bits"]))
    if kind == "bits":
        patterns = draw(st.lists(st.integers(0, 2**64 - 1), min_size=n, max_size=n))
        values = np.array(patterns, dtype=np.uint64).view(np.float64)
    else:
        ints = np.cumsum(draw(st.lists(st.integers(-50, 50), min_size=n, max_size=n))).astype(np.int64)
        exponent = draw(st.integers(0, 4))
        values = (ints + draw(st.integers(-10**6, 10**6))) / 10.0**exponent
        if kind == "ulp":
            values = np.nextafter(values, np.inf)
        elif kind == "few":
            values = np.round(values % 3, 1)
        elif kind == "constant":
            values = np.full(n, values[0] if n else 1.5)
    name = draw(st.sampled_from(["a", "b", "c", "d"]))
    return Series(name, {"k": kind}, timestamps, values)


def blocks_of(series_list, block_points):
    blocks = []
    for s in canonical_order(series_list):
        for start, end in metrics_file.split_into_blocks(len(s), block_points):
            block = encode_block(s.timestamps[start:end], s.values[start:end])
            blocks.append((block, f"{s.name} block at {start}", end - start))
    return blocks


def assert_decoded_alike(blocks):
    together = decode_blocks_together(blocks)
    assert len(together) == len(blocks)
    for block, (timestamps, values) in zip(blocks, together):
        reference_timestamps, reference_values = decode_block(*block)
        assert same_bits(timestamps, reference_timestamps) and same_bits(values, reference_values)


@settings(max_examples=60, deadline=None)
@given(st.lists(metric_like_series(), min_size=1, max_size=5, unique_by=lambda s: s.name), st.integers(1, 40))
def test_metric_like_blocks_decode_together_as_one_by_one(series_list, block_points):
    assert_decoded_alike(blocks_of(series_list, block_points))


@settings(max_examples=30, deadline=None)
@given(datasets(max_points=40), st.integers(1, 12))
def test_random_blocks_decode_together_as_one_by_one(series_list, block_points):
    assert_decoded_alike(blocks_of(series_list, block_points))


@pytest.mark.parametrize("slice_values", [3, 64])  # cache groups of 1 value, and of 32: several blocks each
@settings(max_examples=30, deadline=None)
@given(st.lists(metric_like_series(), min_size=1, max_size=5, unique_by=lambda s: s.name), st.integers(1, 40))
def test_blocks_decode_alike_in_small_slices_and_groups(slice_values, series_list, block_points):
    with small_slices(slice_values):
        assert_decoded_alike(blocks_of(series_list, block_points))


def test_awkward_and_generated_blocks_decode_together_as_one_by_one():
    assert_decoded_alike(blocks_of(awkward_dataset(), 3))
    assert_decoded_alike(blocks_of(generate_dataset(8, 2_000, seed=11), 700))


def batches_of_a_whole_file_read(path, series_list, block_points, monkeypatch):
    """Write the series, read the file back (checking it bit for bit) and return how many blocks
    each call of the batched decoder got."""
    write_file(path, series_list, block_points=block_points)
    calls = []
    real = metrics_file.decode_blocks_together
    monkeypatch.setattr(metrics_file, "decode_blocks_together",
                        lambda blocks: calls.append(len(blocks)) or real(blocks))
    restored = metrics_file.read_file(path)
    for original, back in zip(canonical_order(series_list), restored):
        assert same_bits(original.timestamps, back.timestamps) and same_bits(original.values, back.values)
    return calls


def test_a_whole_file_read_goes_through_the_batched_decoder(tmp_path, monkeypatch):
    series_list = generate_dataset(4, 1_000, seed=5)
    calls = batches_of_a_whole_file_read(tmp_path / "m.bin", series_list, 100, monkeypatch)
    assert calls == [sum(-(-len(s) // 100) for s in series_list)] and calls[0] > metrics_file.BATCH_FROM_BLOCKS


# Damage -------------------------------------------------------------------------------------------


def with_fixed_crc(block):
    body = block[:-CRC.size]
    return body + CRC.pack(zlib.crc32(body))


def outcome(decode):
    try:
        return decode()
    except FormatError:
        return "error"


@pytest.mark.parametrize("seed", [0, 1])
def test_damaged_streams_give_format_error_or_the_reference_result(seed):
    """Byte flips inside the streams of one block of a batch, its CRC made to match: the batched
    decoder refuses exactly when the per-block decoder does, and otherwise agrees with it."""
    series_list = generate_dataset(6, 1_200, seed=seed) + [
        Series("sparse_jitter", {}, np.cumsum(np.where(np.arange(900) % 7, 15, 16)).astype(np.int64),
               np.round(np.sin(np.arange(900)) * 100, 2))]
    blocks = blocks_of(series_list, 150)
    rng = np.random.default_rng(seed)
    cases = 0
    for _ in range(500):
        target = int(rng.integers(len(blocks)))
        block, where, points = blocks[target]
        damaged = bytearray(block)
        position = int(rng.integers(BLOCK_HEADER.size, len(block) - CRC.size))
        damaged[position] ^= int(rng.choice([0x01, 0x10, 0x80, 0xFF]))
        if rng.random() < 0.2:  # or cut the value stream short
            damaged = damaged[:int(rng.integers(BLOCK_HEADER.size, len(block) - CRC.size))] + bytes(CRC.size)
        batch = list(blocks[max(0, target - 3):target]) + [(with_fixed_crc(bytes(damaged)), where, points)]
        batch += blocks[target + 1:target + 4]
        reference = outcome(lambda: [decode_block(*b) for b in batch])
        together = outcome(lambda: decode_blocks_together(batch))
        assert (reference == "error") == (together == "error"), f"case {cases}: {reference!r:.80} vs {together!r:.80}"
        if reference != "error":
            for (t1, v1), (t2, v2) in zip(reference, together):
                assert same_bits(t1, t2) and same_bits(v1, v2)
        cases += 1
    assert cases == 500


def test_a_big_read_is_decoded_in_batches_of_about_batch_points(tmp_path, monkeypatch):
    series_list = generate_dataset(3, 900, seed=8)
    monkeypatch.setattr(metrics_file, "BATCH_POINTS", 120)  # three blocks of 50 reach it
    calls = batches_of_a_whole_file_read(tmp_path / "m.bin", series_list, 50, monkeypatch)
    blocks = sum(-(-len(s) // 50) for s in series_list)
    assert sum(calls) == blocks and max(calls) == 3 and len(calls) == -(-blocks // 3)
