"""Phase 3's teaching numbers must be true: checked against small cases worked out by hand."""
import numpy as np
import pytest

from lib.data.dataset import Series, assert_identical
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


def test_one_flipped_bit_changes_a_phase_3_value_silently():
    from lib.data import generator

    series_list = generator.generate_dataset(3, 300, seed=5)
    flip = phase3.silent_bit_flip(series_list)
    assert flip is not None
    before, after = np.array([flip["before"], flip["after"]]).view(np.uint64)
    assert before != after and flip["series"] is series_list[0]
    assert before == series_list[0].values.view(np.uint64)[flip["index"]]


def test_a_late_scrape_makes_three_non_zero_delta_of_deltas(capsys):
    late = Series("x", {}, np.array([0, 10_000, 20_007, 30_000, 40_000]) * 1_000_000, np.zeros(5))
    phase3.print_late_scrapes([late], 25.0, interval_ms=10_000, late_ms=7)
    out = " ".join(capsys.readouterr().out.split())
    # 0, 10000, 20007, 30000, 40000: deltas 10000, 10007, 9993, 10000; worked out by hand.
    assert "deltas 10000, 10007, 9993, 10000 and delta-of-deltas +7, -14, +7: 3 non-zero" in out
    assert "Here 1 scrape off the grid makes 3 non-zero delta-of-deltas (3.0 each" in out


def test_the_report_defines_its_terms_before_using_them(awkward_output_dir, capsys):
    from tests.conftest import phase_module as load

    load("02_columnar_storage.py").run(awkward_output_dir)
    phase3.run(awkward_output_dir)
    out = capsys.readouterr().out
    for term in ("bits kept:", "reuse:", "new:", "same:"):
        assert out.index(term) < out.index("bits kept  kind"), term
    assert "reads back without error" in out
