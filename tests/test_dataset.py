import json
import struct
import zlib

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from lib.data.dataset import (
    DEFAULT_OUTPUT_DIR, Series, assert_identical, canonical_order, first_difference, load_dataset, save_dataset,
)
from lib.errors import FormatError, MissingDatasetError, RoundTripError
from tests.conftest import AWKWARD_VALUES, awkward_dataset, int64s

float_bits = st.integers(min_value=0, max_value=2**64 - 1)


@st.composite
def datasets(draw, max_series=4, max_points=20):
    names = draw(st.lists(st.sampled_from(["a", "b_total", "c"]), min_size=1, max_size=max_series, unique=True))
    result = []
    for name in names:
        n = draw(st.integers(0, max_points))
        ts = draw(st.lists(int64s, min_size=n, max_size=n))
        bits = draw(st.lists(float_bits, min_size=n, max_size=n))
        labels = draw(st.dictionaries(st.text(min_size=1, max_size=5), st.text(max_size=5), max_size=3))
        values = np.array(bits, dtype=np.uint64).view(np.float64)
        result.append(Series(name, labels, np.array(ts, dtype=np.int64), values))
    return canonical_order(result)


@settings(max_examples=60, deadline=None)
@given(datasets())
def test_dataset_file_round_trips_bit_for_bit(tmp_path_factory, series_list):
    path = tmp_path_factory.mktemp("ds") / "d.bin"
    save_dataset(series_list, path, {"note": "x"})
    loaded, info = load_dataset(path)
    assert info == {"note": "x"}
    assert_identical(series_list, loaded)


def test_save_is_deterministic(tmp_path):
    save_dataset(awkward_dataset(), tmp_path / "a.bin")
    save_dataset(list(reversed(awkward_dataset())), tmp_path / "b.bin")
    assert (tmp_path / "a.bin").read_bytes() == (tmp_path / "b.bin").read_bytes()


def test_nan_payload_difference_is_detected():
    a = [Series("m", {}, [1], AWKWARD_VALUES[:1])]
    b = [Series("m", {}, [1], AWKWARD_VALUES[1:2])]  # another NaN: equal under ==-with-NaN rules, not bits
    assert "0x7ff8000000000001" in first_difference(a, b)
    with pytest.raises(RoundTripError):
        assert_identical(a, b)


def test_negative_zero_differs_from_zero():
    a = [Series("m", {}, [1], [0.0])]
    b = [Series("m", {}, [1], [-0.0])]
    assert first_difference(a, b) is not None


def test_timestamp_and_label_differences_are_detected():
    base = [Series("m", {"h": "1"}, [1, 2], [1.0, 2.0])]
    assert first_difference(base, [Series("m", {"h": "1"}, [1, 3], [1.0, 2.0])]).endswith("timestamp 1 is 3, expected 2")
    assert "instead" in first_difference(base, [Series("m", {"h": "2"}, [1, 2], [1.0, 2.0])])
    assert "points expected" in first_difference(base, [Series("m", {"h": "1"}, [1], [1.0])])
    assert first_difference(base, [Series("m", {"h": "1"}, [1, 2], [1.0, 2.0])]) is None


def test_canonical_order_rejects_duplicates():
    with pytest.raises(ValueError, match="duplicate"):
        canonical_order([Series("m", {"a": "1"}, [], []), Series("m", {"a": "1"}, [1], [1.0])])


def test_series_validates_its_fields():
    with pytest.raises(ValueError):
        Series("m", {}, [1, 2], [1.0])
    with pytest.raises(ValueError):
        Series("m", {"a": 1}, [], [])
    with pytest.raises(ValueError):
        Series("", {}, [], [])


def test_missing_dataset_names_the_command(tmp_path):
    with pytest.raises(MissingDatasetError, match="00_generate_data.py"):
        load_dataset(tmp_path / "00_dataset.bin")


def test_damaged_dataset_files_raise_format_error(tmp_path):
    path = tmp_path / "d.bin"
    save_dataset(awkward_dataset(), path)
    data = path.read_bytes()
    damaged = {
        "magic": b"XXXXXXXX" + data[8:],
        "flipped": data[:40] + bytes([data[40] ^ 1]) + data[41:],
        "truncated": data[:-9],
        "tiny": data[:5],
    }
    for name, content in damaged.items():
        path.write_bytes(content)
        with pytest.raises(FormatError):
            load_dataset(path)


@pytest.mark.parametrize("extra", [-8, 8, 16])
def test_a_body_longer_or_shorter_than_its_point_counts_is_refused(tmp_path, extra):
    # The CRC is made to match, so only the sizes disagree: 16 bytes a point, no more, no fewer.
    path = tmp_path / "d.bin"
    save_dataset(awkward_dataset(), path)
    body = path.read_bytes()[:-4]
    body = body[:extra] if extra < 0 else body + bytes(extra)
    path.write_bytes(body + zlib.crc32(body).to_bytes(4, "little"))
    with pytest.raises(FormatError, match="point counts do not match the file size"):
        load_dataset(path)


def test_a_missing_dataset_outside_the_default_folder_names_its_folder(tmp_path):
    with pytest.raises(MissingDatasetError, match="--output-dir"):
        load_dataset(tmp_path / "00_dataset.bin")
    with pytest.raises(MissingDatasetError) as default:
        load_dataset(DEFAULT_OUTPUT_DIR / "no_such_dataset.bin")
    assert "--output-dir" not in str(default.value)


def test_a_negative_point_count_is_refused_even_when_the_sizes_add_up(tmp_path):
    # Counts -1 and 1 add up to no points: an empty body, which the size check alone would accept.
    entries = [{"name": "a", "labels": {}, "count": -1}, {"name": "b", "labels": {}, "count": 1}]
    header = json.dumps({"series": entries, "info": {}}).encode()
    body = b"SQZDATA1" + struct.pack("<I", len(header)) + header
    path = tmp_path / "d.bin"
    path.write_bytes(body + struct.pack("<I", zlib.crc32(body)))
    with pytest.raises(FormatError, match="non-negative"):
        load_dataset(path)
