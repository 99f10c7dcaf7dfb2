"""CSV files, simple and long (lib/data/importers/csv_files.py)."""
import csv
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from lib.data.dataset import canonical_order
from lib.data.importers import ImportResult, import_paths, metric_name_from_file
from tests.importer_inputs import T0, T0_NS, bits, by_name, import_error, traced_peak_bytes, write

# Simple CSV

def test_simple_csv_is_one_series_named_after_the_file_labelled_by_its_folder(tmp_path):
    path = write(tmp_path / "web-01", "cpu-usage.percent.csv", "timestamp,value\n1700000000,1.5\n1700000010,2.5\n")
    result = import_paths([path])
    assert isinstance(result, ImportResult)
    [series] = result.series
    assert series.name == "cpu_usage_percent"
    assert series.labels == {"source": "web-01"}
    assert series.timestamps.tolist() == [T0_NS, T0_NS + 10 * 10**9]
    assert series.timestamps.dtype == np.int64 and series.values.dtype == np.float64
    assert bits(series.values) == bits([1.5, 2.5])
    assert result.files == [str(path)]
    assert result.formats == {str(path): "csv"}
    assert result.warnings == []


@pytest.mark.parametrize(
    "file_name, metric",
    [("cpu.csv", "cpu"), ("5xx rate.csv", "_5xx_rate"), ("disk:io-bytes.v2.csv", "disk:io_bytes_v2"),
     ("température.csv", "temp_rature")],
)
def test_metric_names_from_file_names_are_sanitised(file_name, metric):
    assert metric_name_from_file(file_name) == metric


def test_simple_csv_accepts_value_first_and_a_time_column(tmp_path):
    path = write(tmp_path, "load.csv", "Value, Time\n0.25,1700000000000\n")
    [series] = import_paths([path]).series
    assert series.timestamps.tolist() == [T0_NS]
    assert bits(series.values) == bits([0.25])


def test_windows_line_endings_bom_and_quoted_fields(tmp_path):
    content = '\ufefftimestamp,value\r\n"1700000000","0.1"\r\n1700000001,"-0.0"\r\n\r\n'
    path = write(tmp_path, "m.csv", content)
    [series] = import_paths([path]).series
    assert series.timestamps.tolist() == [T0_NS, T0_NS + 10**9]
    assert bits(series.values) == [0x3FB999999999999A, 0x8000000000000000]


def test_single_point_file(tmp_path):
    path = write(tmp_path, "one.csv", "timestamp,value\n2023-10-12T14:30:00Z,42")  # no final newline
    [series] = import_paths([path]).series
    assert series.timestamps.tolist() == [1_697_121_000_000_000_000]
    assert series.values.tolist() == [42.0]


def test_csv_value_edge_cases_are_bit_exact(tmp_path):
    texts = ["NaN", "+Inf", "-Inf", "Inf", "5e-324", "0.30000000000000004", "-1.5e-300"]
    rows = "".join(f"{T0 + i},{text}\n" for i, text in enumerate(texts))
    [series] = import_paths([write(tmp_path, "v.csv", "timestamp,value\n" + rows)]).series
    assert bits(series.values) == bits([float(t) for t in texts])


def test_header_only_csv_adds_no_series_but_a_warning(tmp_path):
    empty = write(tmp_path, "a/empty.csv", "timestamp,value\r\n")
    full = write(tmp_path, "a/full.csv", "timestamp,value\n1700000000,1\n")
    result = import_paths([empty, full])
    assert [s.name for s in result.series] == ["full"]
    assert any(str(empty) in w and "no data rows" in w for w in result.warnings)
    assert result.files == [str(empty), str(full)]


# Long CSV

def test_long_csv_other_columns_become_labels(tmp_path):
    content = (
        "timestamp,metric,host,region,value\n"
        "1700000000,cpu,a,eu,1\n"
        "1700000000,cpu,b,eu,2\n"
        '1700000010,cpu,a,eu,3\n'
        '1700000010,http_requests_total,"web,01",,4\n'
    )
    result = import_paths([write(tmp_path, "long.csv", content)])
    series = by_name(result)
    assert list(series) == [
        'cpu{host="a",region="eu"}',
        'cpu{host="b",region="eu"}',
        'http_requests_total{host="web,01"}',  # an empty cell is no label at all
    ]
    assert series['cpu{host="a",region="eu"}'].values.tolist() == [1.0, 3.0]
    assert series['cpu{host="a",region="eu"}'].timestamps.tolist() == [T0_NS, T0_NS + 10 * 10**9]
    assert result.series == canonical_order(result.series)
    assert result.formats[str(tmp_path / "long.csv")] == "csv-long"


def test_long_csv_accepts_metric_name_and_keeps_names_verbatim(tmp_path):
    content = "metric_name,value,timestamp,Host\ndisk.io-bytes,7,1700000000,A\n"
    [series] = import_paths([write(tmp_path, "long.csv", content)]).series
    assert series.name == "disk.io-bytes"
    assert series.labels == {"Host": "A"}


def test_long_csv_quoted_value_with_newline_inside_a_label(tmp_path):
    content = 'timestamp,metric,note,value\n1700000000,m,"two\nlines",1\n1700000001,m,x,2\n'
    result = import_paths([write(tmp_path, "long.csv", content)])
    assert {s.labels["note"] for s in result.series} == {"two\nlines", "x"}


# Errors name the file and the line

@pytest.mark.parametrize(
    "name, content, line, message",
    [
        ("m.csv", "timestamp,value\n1700000000,1\nlater,2\n", 3, "unparseable timestamp 'later'"),
        ("m.csv", "timestamp,value\n1700000000,1\n1700000001,\n", 3, "unparseable value ''"),
        ("m.csv", "timestamp,value\n1700000000,1\n1700000001,2,3\n", 3, "expected 2 fields, found 3"),
        ("m.csv", "timestamp,value\r\n1700000000,1\r\n1700000001,1_0\r\n", 3, "unparseable value '1_0'"),
        ("m.csv", "time,val\n1700000000,1\n", 1, "missing column 'value'"),
        ("m.csv", "when,value\n1700000000,1\n", 1, "missing column 'timestamp' or 'time'"),
        ("m.csv", "timestamp,value,host\n1700000000,1,a\n", 1, "unexpected column 'host'"),
        ("m.csv", "timestamp,time,value\n1,1,1\n", 1, "more than one column"),
        ("m.csv", "timestamp,value,value\n1,1,1\n", 1, "appears twice"),
        ("m.csv", 'timestamp,value\n1700000000,"1\n', 2, "malformed CSV"),
        ("l.csv", "timestamp,metric,value\n1700000000,,1\n", 2, "empty metric name"),
        ("l.csv", "timestamp,metric,value\n1700000000,m,1\n1700000001,m,x\n", 3, "unparseable value 'x'"),
        ("b.csv", b"timestamp,value\n1700000000,1\n17000\xff,2\n", 3, "not UTF-8 text"),
    ],
)
def test_csv_errors_name_file_and_line(tmp_path, name, content, line, message):
    path = write(tmp_path, name, content)
    error = import_error([path], message)
    assert error.startswith(f"{path}:{line}: ")
    assert "\n" not in error


# Property: long CSV written with repr() values and epoch timestamps in every unit imports back bit-exact

# The magnitude rule's bands, (smallest, largest magnitude, power of ten to ns), each cut where
# int64 nanoseconds end (2**63 ns is 9223372036.854775807 s).
EPOCH_UNIT_BANDS = (
    (0, 9_223_372_036, 9),  # seconds
    (10**11, 9_223_372_036_854, 6),  # milliseconds
    (10**14, 9_223_372_036_854_775, 3),  # microseconds
    (10**17, 2**63 - 1, 0),  # nanoseconds
)


@st.composite
def epoch_timestamps(draw):
    """(text, nanoseconds) for an epoch number in any unit, or decimal seconds with 9 digits."""
    negative = draw(st.booleans())
    sign = -1 if negative else 1
    if draw(st.booleans()):
        low, high, power = draw(st.sampled_from(EPOCH_UNIT_BANDS))
        number = draw(st.integers(low, high))
        return f"{'-' if negative else ''}{number}", sign * number * 10**power
    seconds, nanoseconds = draw(st.integers(0, 9_223_372_035)), draw(st.integers(0, 999_999_999))
    return f"{'-' if negative else ''}{seconds}.{nanoseconds:09d}", sign * (seconds * 10**9 + nanoseconds)


label_text = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=0x2FF), min_size=1, max_size=8)


series_strategy = st.fixed_dictionaries({
    "name": st.from_regex(r"[a-z_][a-z0-9_:]{0,10}", fullmatch=True),
    "host": label_text,
    "points": st.lists(
        st.tuples(
            epoch_timestamps(),
            st.floats(allow_nan=True, allow_infinity=True, width=64),
        ),
        min_size=1,
        max_size=20,
    ),
})


@settings(max_examples=60, deadline=None)
@given(st.lists(series_strategy, min_size=1, max_size=4, unique_by=lambda s: (s["name"], s["host"])))
def test_long_csv_round_trip_is_bit_exact(tmp_path_factory, generated):
    path = tmp_path_factory.mktemp("prop") / "long.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["timestamp", "metric", "host", "value"])
        for s in generated:
            for t, v in s["points"]:
                writer.writerow([t[0], s["name"], s["host"], repr(v)])
    result = import_paths([path])
    expected = {(s["name"], (("host", s["host"]),)): s["points"] for s in generated}
    assert {s.key for s in result.series} == set(expected)
    for s in result.series:
        timestamps, values = zip(*expected[s.key])
        assert s.timestamps.tolist() == [ns for _text, ns in timestamps]
        # repr() writes every NaN as "nan", so only the canonical NaN can come back.
        canonical = [math.nan if math.isnan(v) else v for v in values]
        assert bits(s.values) == bits(canonical)


# Memory: a big CSV costs memory near its points, not its text

@pytest.mark.parametrize("name, header, row", [
    ("m.csv", "timestamp,value", "{t},{v}"),
    ("l.csv", "timestamp,metric,host,value", "{t},cpu,h\u00e9\u2713,{v}"),  # non-ASCII text
])
def test_csv_imports_in_memory_near_its_points_not_its_text(tmp_path, name, header, row):
    rows = "".join(row.format(t=T0 * 1000 + 15_000 * i, v=i * 0.25) + "\n" for i in range(200_000))
    path = write(tmp_path, name, header + "\n" + rows)
    peak = traced_peak_bytes(lambda: import_paths([path]))
    assert peak < 16 * 200_000 * 1.5 + 4 * 2**20, (peak, path.stat().st_size)
