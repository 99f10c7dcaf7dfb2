"""Phase 3's teaching numbers must be true: checked against small cases worked out by hand."""
import numpy as np
import pytest

from lib.dataset import Series, assert_identical
from lib.errors import FormatError
from tests.conftest import awkward_dataset, phase_module

phase3 = phase_module("03_compressed_columnar.py")


def test_decimal_places_finds_the_fewest_decimals():
    assert phase3.decimal_places(np.array([1.0, 2.0, np.nan])) == 0
    assert phase3.decimal_places(np.array([12.34, 0.5])) == 2
    assert phase3.decimal_places(np.array([0.1 + 0.2])) is None  # 0.30000000000000004


def test_timestamp_steps_for_a_regular_millisecond_series():
    # 4 timestamps, 15 s apart, in ns: deltas 15e9 (a 5-byte varint after zigzag), dods 0.
    ts = 1_700_000_000_000_000_000 + np.arange(4, dtype=np.int64) * 15_000_000_000
    steps, runs = phase3.timestamp_steps([Series("m", {}, ts, np.zeros(4))])
    assert steps["raw int64"] == 4 * 64
    # first value: zigzag(1.7e18) = 3.4e18 needs 62 bits -> 9 varint bytes; 15e9 -> zigzag 3e10, 35 bits -> 5 bytes
    assert steps["delta, varint"] == 8 * (9 + 3 * 5)
    assert steps["delta-of-delta, varint"] == 8 * (9 + 5 + 1 + 1)
    # Gorilla: 64-bit first timestamp, unit 15e9 (34 bits: 6-bit length + 34), first dod 1 in units
    # ('10' + 7 bits), then two '0' codes.
    assert steps["Gorilla bit codes"] == 64 + 6 + 34 + 9 + 1 + 1
    assert runs == 2  # the delta-of-deltas after the first value, [15e9, 0, 0], form two runs


def test_compressed_file_round_trips_and_damage_is_refused(tmp_path):
    path = tmp_path / "c.msgpack"
    phase3.write_compressed(awkward_dataset(), path)
    assert_identical(awkward_dataset(), phase3.read_compressed(path))
    data = path.read_bytes()
    for cut in range(0, len(data), 5):
        path.write_bytes(data[:cut])
        with pytest.raises(FormatError):
            phase3.read_compressed(path)
