"""Every report sentence that states a fact about the data is computed from it: each lesson is
tried on data where it holds and on data where it does not, and must then say what happened."""
import numpy as np
import pytest

from lib.data.dataset import MINUTE_NS, NS_PER_SECOND, Series
from lib.report.table import format_bar_chart
from lib.report.text import percent, shorten, wrap
from lib.retention.long_range_queries import Answers
from tests.conftest import phase_module

columnar = phase_module("02_columnar_storage.py")
compressed = phase_module("03_compressed_columnar.py")
binary = phase_module("04_custom_binary_format.py")
rollups = phase_module("05_downsampling_storage.py")

MS = 1_000_000


def test_redundancy_by_hand():
    # Steps 15, 15, 16, 44 ms: the usual step is 15 and 16 is 6.7% off it, so 2 of 4 are within 1%.
    # Values 1, 1, 1.005, 2, 2: two pairs repeat, one moves by 0.5%, one doubles.
    series = Series("x", {}, np.array([0, 15, 30, 46, 90]) * MS, [1.0, 1.0, 1.005, 2.0, 2.0])
    assert columnar.redundancy([series]) == (50.0, 50.0, 25.0)


@pytest.mark.parametrize("timestamps, values, words", [
    ([0, 15, 30, 45], [5.0, 5.0, 5.0, 5.0], "although 100% of the steps"),
    ([0, 15, 300, 301], [1.0, 9.0, -4.0, 100.0], "and 33% of the steps"),
])
def test_phase_2_says_although_only_when_the_redundancy_is_there(capsys, tmp_path, timestamps, values, words):
    series = Series("x", {}, np.array(timestamps) * NS_PER_SECOND, values)
    columnar.print_report([series], tmp_path / "f", 100, len(series))
    text = " ".join(capsys.readouterr().out.split())
    assert words in text
    assert ("although 100% of values repeat" in text) == (len(set(values)) == 1)


def test_late_scrapes_by_hand():
    # 0, 15, 31, 45, 60 ms: the usual step is 15 and one scrape sits 1 ms off the grid; the
    # delta-of-deltas after the first are 1, -2, 1: three non-zero codes for one late scrape.
    series = Series("x", {}, np.array([0, 15, 31, 45, 60]) * MS, np.zeros(5))
    assert compressed.late_scrapes([series]) == (1, 3)


def test_phase_3_explains_late_scrapes_only_where_there_are_some(capsys):
    # 31 is 1 ms late (delta-of-deltas +1, -2, +1), 89 is 1 ms early and the series ends at 105
    # (-1, +2): two scrapes off the grid, five non-zero codes.
    jittered = Series("x", {}, np.array([0, 15, 31, 45, 60, 75, 89, 105]) * MS, np.zeros(8))
    compressed.print_late_scrapes([jittered], 60.0)
    text = " ".join(capsys.readouterr().out.split())
    assert "2 scrapes off the grid make 5 non-zero delta-of-deltas (2.5 each" in text and "well below" in text
    punctual = Series("x", {}, np.arange(8) * 15 * MS, np.zeros(8))
    compressed.print_late_scrapes([punctual], 99.9)
    text = " ".join(capsys.readouterr().out.split())
    assert "Every scrape lies on its series' grid" in text and "late" not in text
    assert "each series' only non-zero delta-of-delta is its first" in text


def test_phase_3_names_decimal_metrics_only_when_there_are_some(capsys):
    ts = np.arange(4) * 15 * NS_PER_SECOND
    decimals = [Series("cpu", {}, ts, [12.34, 12.35, 12.5, 13.0])]
    compressed.print_decimal_weakness(decimals, compressed.per_metric_table(decimals))
    assert "cpu: 2 decimals in [12.34, 13]" in capsys.readouterr().out
    integers = [Series("fds", {}, ts, [1.0, 2.0, 3.0, 4.0]), Series("noise", {}, ts, np.random.default_rng(1).random(4))]
    compressed.print_decimal_weakness(integers, compressed.per_metric_table(integers))
    assert "does not show on this data" in capsys.readouterr().out


def test_decimal_places_by_hand():
    assert compressed.decimal_places(np.array([12.5, 3.25, np.nan])) == 2
    assert compressed.decimal_places(np.array([3.0, 1e300])) == 0
    assert compressed.decimal_places(np.array([0.1 + 0.2])) is None  # 0.30000000000000004


def test_block_size_lesson_says_what_the_numbers_show():
    one = {"of_blocks": 1, "series_bytes": 52, "bytes_read": 52}
    assert "it fits one block either way" in binary.block_size_lesson(one, dict(one))
    big = {"of_blocks": 1, "series_bytes": 988, "bytes_read": 988}
    small = {"of_blocks": 7, "series_bytes": 1400, "bytes_read": 413}
    lesson = binary.block_size_lesson(big, small)
    assert "the hour reads 413 B instead of 988 B" in lesson and "the series is larger" in lesson
    no_gain = binary.block_size_lesson(big, {"of_blocks": 7, "series_bytes": 900, "bytes_read": 988})
    assert "still reads" in no_gain and "at no cost in size" in no_gain


def answers(source, values_read, seconds, errors=(0.0, 0.0, 0.005)):
    """Answers whose values differ from a reference of all ones by the given relative errors."""
    hours = np.array([0])
    group_a = Answers(source, hours, {"max": np.array([1 + errors[0]]), "avg": np.array([1 + errors[1]])},
                      values_read, seconds, ("max", "avg"))
    group_b = Answers(source, hours, {"p99": np.array([1 + errors[2]])}, values_read, seconds, ("p99",))
    return [group_a, group_b]


@pytest.mark.parametrize("level_seconds, words", [(0.001, "answers 10.0x faster"),
                                                  (0.009, "about the same time here (1.1x)"),
                                                  (0.05, "answers 5.0x slower here")])
def test_long_range_lesson_says_faster_only_when_it_was(level_seconds, words):
    raw = answers("raw", 36_803, 0.01, errors=(0, 0, 0))
    lesson = rollups.long_range_lesson(raw, [answers("1h", 513, level_seconds)])
    assert words in lesson and "decodes 513 values where raw decodes 36,803 (71.7x fewer)" in lesson
    assert "max merges exactly" in lesson and "p99 is within 0.5%" in lesson


def test_long_range_lesson_reports_an_inexact_max():
    raw = answers("raw", 10, 0.01, errors=(0, 0, 0))
    assert "max is off by up to 2%" in rollups.long_range_lesson(raw, [answers("1h", 5, 0.01, (0.02, 0, 0))])


def spiky_and_quiet_hours():
    # One hour of 10 s samples: 59 quiet minutes at 1.0 and one at 100.0; p99 of the hour is 100.
    ts = np.arange(360, dtype=np.int64) * 10 * NS_PER_SECOND
    spiky = np.where((ts >= 30 * MINUTE_NS) & (ts < 31 * MINUTE_NS), 100.0, 1.0)
    return Series("latency", {}, ts, spiky), Series("latency", {}, ts, np.ones(360))


def test_the_percentile_lesson_follows_the_data(capsys):
    spiky, quiet = spiky_and_quiet_hours()
    rollups.print_percentile_lesson([spiky])
    text = " ".join(capsys.readouterr().out.split())
    assert "Never average percentiles" in text and "happens to stay within" not in text
    rollups.print_percentile_lesson([quiet])
    text = " ".join(capsys.readouterr().out.split())
    assert "happens to stay within 1% too" in text and "Both look fine" not in text
    rollups.print_percentile_lesson([Series("x_total", {}, quiet.timestamps, np.arange(360.0))])
    assert "No gauge holds a finite value" in capsys.readouterr().out


def test_example_lessons_follow_the_answers():
    assert "The same value every time" in rollups.example_lesson("max", [5.0, 5.0, 5.0])
    assert "can only find a higher max" in rollups.example_lesson("max", [3.0, 5.0, 5.0])
    assert "add up to the exact total" in rollups.example_lesson("increase", [0.0, 4.0, 9.0])


def test_bar_chart_is_logarithmic_so_every_step_shows():
    rows = [{"phase": p, "name": n, "bytes_per_point": b, "bytes": 1} for p, n, b in
            [(1, "NDJSON", 211.0), (3, "Gorilla", 4.1), (4, "METRICS!", 2.2), (5, "year", 1.9)]]
    bars = [line.split()[2] for line in format_bar_chart(rows, width=40).splitlines()[1:5]]
    lengths = [len(bar) for bar in bars]
    assert lengths == sorted(lengths, reverse=True) and len(set(lengths)) == 4  # linear: 40, 1, 1, 1
    # 1 to 1000 is three decades of 40 columns: 211 B is log10(211) / 3 of the way.
    assert lengths[0] == round(40 * np.log10(211) / 3)


def test_wrap_shorten_and_percent():
    assert wrap("a b c", indent="> ", width=5) == "> a b\n> c"
    assert shorten('cpu{host="a",region="eu-west-1"}', 20) == 'cpu{host="…-west-1"}'
    assert len(shorten("x" * 500, 120)) == 120 and shorten("short", 120) == "short"
    assert (percent(0.6037), percent(0.0068), percent(1e25)) == ("60.4%", "0.68%", "1e+27%")

