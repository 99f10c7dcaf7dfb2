"""The report page: its Gorilla picture is the real encoding, its numbers are the run's rows, and it is
one self-contained page with one figure per lesson."""
import json
from html.parser import HTMLParser

import numpy as np
from hypothesis import given, strategies as st

from lib.codecs.gorilla import encode_values_reference
from lib.data.dataset import Series
from lib.data.generator import generate_dataset
from lib.report.page import REPORT_FILENAME, build_report_page, decimal_view, gorilla_records
from lib.report.rollup_figures import unit_of
from lib.report.svg import nice_ticks
from tests.conftest import AWKWARD_VALUES, awkward_dataset, run_script

LESSON_FIGURES = {"gorilla-bits", "stage-sizes", "rollup-vs-raw", "retention"}


class PageParser(HTMLParser):
    """Collects what the tests look at: figure ids, tags, and the attributes of every element."""

    def __init__(self):
        super().__init__()
        self.figures, self.tags, self.elements = [], [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        self.elements.append((tag, attrs))
        if tag == "figure":
            self.figures.append(attrs.get("id"))


def parse(page):
    parser = PageParser()
    parser.feed(page)
    parser.close()
    return parser


def joined_bytes(records):
    bits = "".join(field_bits for record in records for _, field_bits in record)
    bits += "0" * (-len(bits) % 8)
    return int(bits, 2).to_bytes(len(bits) // 8, "big") if bits else b""


def test_gorilla_records_of_the_papers_kind_of_example_by_hand():
    # 12.0 = 0x4028000000000000 and 24.0 = 0x4038000000000000 differ in one bit, bit 52:
    # 11 leading zeros, 52 trailing, 1 meaningful bit -> '11' '01011' '000001' '1'.
    records = gorilla_records([12.0, 24.0, 24.0])
    assert records[0] == [("first value", format(0x4028000000000000, "064b"))]
    assert records[1] == [("control", "11"), ("leading zeros", "01011"), ("length", "000001"),
                          ("meaningful bits", "1")]
    assert records[2] == [("control", "0")]


@given(st.lists(st.integers(0, 2**64 - 1), max_size=40))
def test_gorilla_records_are_exactly_the_reference_encoders_bytes(patterns):
    values = np.array(patterns, dtype=np.uint64).view(np.float64)
    assert joined_bytes(gorilla_records(values)) == encode_values_reference(values)


def test_gorilla_records_of_special_values_match_the_encoder():
    assert joined_bytes(gorilla_records(AWKWARD_VALUES)) == encode_values_reference(AWKWARD_VALUES)


def test_decimal_view_by_hand():
    # 43.27 and 43.39 at e = 2 are 4327 and 4339: delta +12, zigzag 24, 5 bits.
    exponent, rows = decimal_view(np.array([43.27, 43.39, 43.38]))
    assert exponent == 2
    assert rows == [(4327, None, None), (4339, 12, 5), (4338, -1, 1)]


def test_nice_ticks_by_hand():
    assert nice_ticks(0, 4.8) == [0, 1, 2, 3, 4]
    assert nice_ticks(-0.05, 1.7) == [0, 0.5, 1, 1.5]
    assert nice_ticks(3, 3) == [3]


def test_units_come_from_the_metric_name():
    assert unit_of("http_request_duration_seconds") == "seconds"
    assert unit_of("cpu_usage_percent") == "%"
    assert unit_of("up") == "value"


SAMPLE_CURVE = {"policy": "raw=7d,1m=30d", "tiers": [["raw", 7.0], ["1m", 30.0]], "series": 10, "interval_s": 15.0, "days": [1, 10, 100],
                "every_point_bytes": [100, 1_000, 10_000], "tiered_bytes": [150, 900, 2_000]}


def sample_rows():
    return [
        {"phase": 1, "name": "NDJSON", "bytes": 10_000, "points": 50, "bytes_per_point": 200.0},
        {"phase": "ref", "name": "NDJSON + gzip -6", "bytes": 500, "points": 50, "bytes_per_point": 10.0},
        {"phase": 4, "name": "METRICS! binary file", "bytes": 110, "points": 50, "bytes_per_point": 2.2},
        {"phase": 5, "name": "projected year", "bytes": 2_000, "points": 1_000, "bytes_per_point": 2.0,
         "projected": True, "storage_over_time": SAMPLE_CURVE},
    ]


def test_page_has_one_figure_per_lesson_and_nothing_fetched():
    series_list = generate_dataset(20, 20_000, seed=3)
    parsed = parse(build_report_page(sample_rows(), series_list))
    assert set(parsed.figures) == LESSON_FIGURES and len(parsed.figures) == len(LESSON_FIGURES)
    assert "script" not in parsed.tags and "link" not in parsed.tags and "img" not in parsed.tags
    for _, attrs in parsed.elements:
        assert not any(key in ("src", "href") for key in attrs)


def test_stage_bars_carry_the_rows_numbers_in_order():
    series_list = generate_dataset(20, 20_000, seed=3)
    parsed = parse(build_report_page(sample_rows(), series_list))
    bars = [attrs for tag, attrs in parsed.elements if tag == "rect" and "data-bytes" in attrs]
    assert [int(b["data-bytes"]) for b in bars] == [10_000, 500, 110, 2_000]


def test_page_survives_a_dataset_of_awkward_series():
    page = build_report_page(sample_rows(), awkward_dataset())
    assert "stage-sizes" in parse(page).figures
    assert "nan" not in page.lower()


def test_buckets_of_only_nan_and_values_without_decimals_draw_no_invalid_marks():
    minutes = np.arange(600, dtype=np.int64) * 60 * 10**9
    values = np.sin(np.arange(600) / 7) * 1e300  # no decimal digits to show, near the float limit
    values[120:240] = np.nan  # two hours of NaN: their buckets have nothing to draw
    gaps = Series("latency_seconds", {}, minutes, np.where(np.isnan(values), np.nan, np.sin(np.arange(600) / 7)))
    huge = Series("huge", {}, minutes, values)
    page = build_report_page(sample_rows(), [gaps, huge])
    parsed = parse(page)
    assert "gorilla-bits" not in parsed.figures and "rollup-vs-raw" in parsed.figures
    assert "nan" not in page.lower()


def test_main_writes_the_page_with_the_runs_own_numbers(tmp_path):
    rows_path = tmp_path / "rows.json"
    result = run_script("main.py", "--output-dir", tmp_path, "--series", "12", "--points", "6000",
                        "--no-reference", "--json", rows_path)
    assert result.returncode == 0, result.stderr
    page_path = tmp_path / REPORT_FILENAME
    assert str(page_path) in result.stdout
    rows = json.loads(rows_path.read_text())
    parsed = parse(page_path.read_text(encoding="utf-8"))
    assert set(parsed.figures) == LESSON_FIGURES
    bars = [attrs for tag, attrs in parsed.elements if tag == "rect" and "data-bytes" in attrs]
    assert [(b["data-phase"], int(b["data-bytes"])) for b in bars] == [(str(r["phase"]), r["bytes"]) for r in rows]


def test_retention_curve_is_drawn_from_the_projected_row():
    page = build_report_page(sample_rows(), generate_dataset(20, 20_000, seed=3))
    parsed = parse(page)
    marks = [(int(a["data-days"]), int(a["data-tiered-bytes"])) for t, a in parsed.elements if "data-days" in a]
    assert marks == [(1, 150), (10, 900), (100, 2_000)]
    assert "the curves cross between 1 and 10 days" in page


def test_the_smallest_lossless_stage_is_named_not_the_projected_row():
    page = build_report_page(sample_rows(), generate_dataset(20, 20_000, seed=3))
    assert "The smallest lossless one, METRICS! binary file, needs 2.20 bytes a point" in page
