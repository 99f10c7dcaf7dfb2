"""Tests for lib/data/importers.py: every format, every timestamp form, the awkward files, the errors.

Fixture files are written by each test into tmp_path. Expected nanoseconds are worked out by hand
(e.g. 2023-10-12T14:30:00Z is 19642 days * 86400 s + 14.5 h = 1697121000 s after the epoch), and
values are compared by their float64 bit patterns, so a NaN, a -0.0 or a last-bit rounding
difference cannot hide.
"""
import csv
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib.data.dataset import assert_identical, canonical_order, float_bits, load_dataset, save_dataset
from lib.errors import FormatError
from lib.data.importers import (
    FORMATS,
    ImportResult,
    detect_format,
    import_paths,
    metric_name_from_file,
    parse_timestamp,
    parse_value,
)

T0 = 1_700_000_000  # 2023-11-14T22:13:20Z, in seconds
T0_NS = T0 * 10**9


def write(folder, name, content):
    """Write exactly these characters (or bytes): no newline translation, so CRLF stays CRLF."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_bytes(content.encode("utf-8"))
    return path


def by_name(result):
    return {s.display_name(): s for s in result.series}


def bits(values):
    return [int(b) for b in float_bits(np.asarray(values, dtype=np.float64))]


# Timestamps

@pytest.mark.parametrize(
    "text, expected_ns",
    [
        ("1700000000", 1_700_000_000_000_000_000),  # seconds
        ("1700000000.123", 1_700_000_000_123_000_000),  # decimal seconds, no float rounding
        ("1700000000.123456789", 1_700_000_000_123_456_789),
        ("1700000000123", 1_700_000_000_123_000_000),  # milliseconds
        ("1700000000123.456", 1_700_000_000_123_456_000),
        ("1700000000123456", 1_700_000_000_123_456_000),  # microseconds
        ("1700000000123456789", 1_700_000_000_123_456_789),  # nanoseconds
        ("1.7e9", 1_700_000_000_000_000_000),
        ("0", 0),
        ("-86400", -86_400_000_000_000),  # the day before the epoch
        ("9000000000", 9_000_000_000_000_000_000),  # seconds, in the year 2255
        ("100000000000", 100_000_000_000_000_000),  # 1e11: milliseconds (March 1973)
        ("9000000000000", 9_000_000_000_000_000_000),  # milliseconds, 2255 again
        ("100000000000000", 100_000_000_000_000_000),  # 1e14: microseconds
        ("100000000000000000", 100_000_000_000_000_000),  # 1e17: nanoseconds
        ("1.0000000005", 1_000_000_000),  # half a nanosecond rounds half to even (down)
        ("1.0000000015", 1_000_000_002),  # (and up)
        (" 1700000000 ", 1_700_000_000_000_000_000),
        ("2023-10-12T14:30:00Z", 1_697_121_000_000_000_000),
        ("2023-10-12t14:30:00z", 1_697_121_000_000_000_000),
        ("2023-10-12 14:30:00", 1_697_121_000_000_000_000),  # no offset: UTC
        ("2023-10-12T14:30:00.5Z", 1_697_121_000_500_000_000),
        ("2023-10-12T14:30:00.123456789Z", 1_697_121_000_123_456_789),
        ("2023-10-12T14:30:00,25Z", 1_697_121_000_250_000_000),
        ("2023-10-12T16:30:00+02:00", 1_697_121_000_000_000_000),  # 16:30 at +2 h is 14:30 UTC
        ("2023-10-12T09:00:00-0530", 1_697_121_000_000_000_000),  # 09:00 at -5:30 is 14:30 UTC
        ("2023-10-12T14:30Z", 1_697_121_000_000_000_000),
        ("2023-10-12", 1_697_068_800_000_000_000),  # midnight UTC: 19642 days * 86400
        ("1970-01-01T00:00:00Z", 0),
        ("1969-12-31T23:59:59.999999999Z", -1),
        ("2000-02-29T00:00:00Z", 951_782_400_000_000_000),  # leap day
    ],
)
def test_timestamp_forms_convert_exactly(text, expected_ns):
    assert parse_timestamp(text) == expected_ns


@pytest.mark.parametrize(
    "text",
    ["", "yesterday", "12:30", "2023-13-01T00:00:00Z", "2023-02-30", "2023-10-12T24:00:00Z",
     "1e999999", "2023-10-12T14:30:00Zjunk",
     # Numbers in range for their unit but past what int64 nanoseconds hold (about 2262).
     "99999999999", "99999999999999", "99999999999999999999", "-9300000000",
     # Offsets beyond 23:59 are no offsets at all.
     "2023-10-12T14:30:00+99:99", "2023-10-12T14:30:00-00:60", "2023-10-12T14:30:00+24:00"],
)
def test_unparseable_or_out_of_range_timestamps_are_refused(text):
    with pytest.raises(ValueError):
        parse_timestamp(text)


@pytest.mark.parametrize("text", ["0" * 100_000 + "1700000000", "0" * 100_000, "1" * 1000 + ".5"])
def test_absurdly_long_timestamps_are_malformed_not_out_of_range(text):
    with pytest.raises(ValueError, match="unparseable timestamp") as caught:
        parse_timestamp(text)
    assert len(str(caught.value)) < 200


def test_a_few_leading_zeros_are_still_a_timestamp():
    assert parse_timestamp("0001700000000") == 1_700_000_000_000_000_000


@pytest.mark.parametrize("text", ["99999999999999999", "-99999999999999999", "99999999999999999.9", "9300000000000000"])
def test_just_below_1e17_is_microseconds_so_beyond_2262(text):
    # 99999999999999999 us is 9.99e19 ns, past int64; read as ns it would be a date in 1973.
    with pytest.raises(ValueError, match="1677-2262"):
        parse_timestamp(text)


@pytest.mark.parametrize(
    "text, expected_ns",
    [
        ("9000000000000000", 9_000_000_000_000_000_000),  # the largest microseconds still in int64
        ("100000000000000000", 100_000_000_000_000_000),  # 1e17 and above: nanoseconds
        ("100000000000000001", 100_000_000_000_000_001),
        ("-100000000000000000", -100_000_000_000_000_000),
        ("100000000000000000.4", 100_000_000_000_000_000),
    ],
)
def test_epoch_numbers_at_the_microsecond_nanosecond_boundary(text, expected_ns):
    assert parse_timestamp(text) == expected_ns


# Values

@pytest.mark.parametrize(
    "text, expected_bits",
    [
        ("0.1", 0x3FB999999999999A),
        ("1.5", 0x3FF8000000000000),
        ("-0.0", 0x8000000000000000),
        ("0", 0x0000000000000000),
        ("5e-324", 0x0000000000000001),  # the smallest subnormal
        ("1.7976931348623157e308", 0x7FEFFFFFFFFFFFFF),  # the largest finite double
        ("NaN", 0x7FF8000000000000),
        ("nan", 0x7FF8000000000000),
        ("+Inf", 0x7FF0000000000000),
        ("Inf", 0x7FF0000000000000),
        ("inf", 0x7FF0000000000000),
        ("-Inf", 0xFFF0000000000000),
        ("1e3", 0x408F400000000000),
    ],
)
def test_values_parse_bit_exactly(text, expected_bits):
    assert bits([parse_value(text)]) == [expected_bits]


@pytest.mark.parametrize("text", ["", "abc", "1,5", "1_000", "0x10",
                                  "\u0661", "\u0661.5", "\uff11", "\u00a01.5", "1\u2003"])
def test_unparseable_values_are_refused(text):
    with pytest.raises(ValueError):
        parse_value(text)


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


def test_an_import_with_no_points_at_all_is_an_error(tmp_path):
    path = write(tmp_path, "empty.csv", "timestamp,value\n")
    with pytest.raises(FormatError, match="no data points"):
        import_paths([path])


@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf", b"\r\n\n  \n"])
def test_a_file_with_nothing_in_it_is_an_empty_file_error(tmp_path, content):
    path = write(tmp_path, "nothing.csv", content)
    with pytest.raises(FormatError, match="empty file") as caught:
        import_paths([path])
    assert str(path) in str(caught.value)


def test_duplicate_and_out_of_order_timestamps_are_kept_and_reported(tmp_path):
    rows = ["1700000002,1", "1700000001,2", "1700000001,3", "1700000003,4", "1700000002,5"]
    path = write(tmp_path, "h/m.csv", "timestamp,value\n" + "\n".join(rows) + "\n")
    result = import_paths([path])
    [series] = result.series
    assert (series.timestamps // 10**9 - T0).tolist() == [2, 1, 1, 3, 2]
    assert series.values.tolist() == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert result.warnings == ['m{source="h"}: 2 duplicate and 2 out-of-order timestamps, kept as given']


# Folders

def test_a_folder_imports_its_csv_files_recursively_in_sorted_order(tmp_path):
    write(tmp_path, "data/b.csv", "timestamp,value\n1700000000,2\n")
    write(tmp_path, "data/a.csv", "timestamp,value\n1700000000,1\n")
    write(tmp_path, "data/sub/c.CSV", "timestamp,value\n1700000000,3\n")
    write(tmp_path, "data/notes.txt", "not a csv")
    write(tmp_path, "data/.hidden.csv", "garbage")
    write(tmp_path, "data/.cache/x.csv", "garbage")
    result = import_paths([tmp_path / "data"])
    data = tmp_path / "data"
    assert result.files == [str(data / "a.csv"), str(data / "b.csv"), str(data / "sub" / "c.CSV")]
    assert by_name(result).keys() == {'a{source="data"}', 'b{source="data"}', 'c{source="sub"}'}


def test_the_same_series_in_several_files_is_concatenated_in_file_order(tmp_path):
    write(tmp_path, "x/host/m.csv", "timestamp,value\n1700000005,1\n1700000006,2\n")
    write(tmp_path, "y/host/m.csv", "timestamp,value\n1700000000,3\n")
    result = import_paths([tmp_path / "x", tmp_path / "y"])
    [series] = result.series
    assert (series.timestamps // 10**9 - T0).tolist() == [5, 6, 0]
    assert series.values.tolist() == [1.0, 2.0, 3.0]
    assert "1 out-of-order" in result.warnings[0]


def test_a_file_given_twice_is_read_once(tmp_path):
    path = write(tmp_path, "m.csv", "timestamp,value\n1700000000,1\n")
    result = import_paths([path, path])
    assert len(result.series[0]) == 1
    assert result.warnings == [f"{path}: given more than once, read once"]


def test_a_folder_without_csv_files_is_an_error(tmp_path):
    write(tmp_path, "d/readme.txt", "hello")
    with pytest.raises(FormatError, match="no CSV files") as caught:
        import_paths([tmp_path / "d"])
    assert str(tmp_path / "d") in str(caught.value)


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


# InfluxDB line protocol

def test_influx_fields_become_series_with_tags_as_labels(tmp_path):
    content = (
        "# exported by influxd inspect export-lp\n"
        "\n"
        "cpu,host=a,region=eu usage_user=1.5,usage_system=0.25 1700000000000000000\n"
        "cpu,region=eu,host=a usage_user=2.5 1700000000123456789\r\n"
        "mem,host=a used=12i,free=7u,swapping=true,oom=F 1700000000000000000\n"
    )
    result = import_paths([write(tmp_path, "metrics.lp", content)])
    series = by_name(result)
    assert list(series) == [
        'cpu_usage_system{host="a",region="eu"}',
        'cpu_usage_user{host="a",region="eu"}',
        'mem_free{host="a"}',
        'mem_oom{host="a"}',
        'mem_swapping{host="a"}',
        'mem_used{host="a"}',
    ]
    user = series['cpu_usage_user{host="a",region="eu"}']
    assert user.timestamps.tolist() == [T0_NS, 1_700_000_000_123_456_789]
    assert user.values.tolist() == [1.5, 2.5]
    assert series['mem_used{host="a"}'].values.tolist() == [12.0]
    assert series['mem_free{host="a"}'].values.tolist() == [7.0]
    assert series['mem_swapping{host="a"}'].values.tolist() == [1.0]  # booleans are 0/1
    assert series['mem_oom{host="a"}'].values.tolist() == [0.0]


def test_influx_escapes_and_quoted_string_fields(tmp_path):
    content = (
        r'my\ disk\,io,path=C:\\data,mount\ point=/mnt\,x,k\=ey=v\=1 '
        r'note="a, b=c \"quoted\" d",read\ bytes=-3i,util=0.1 1700000000000000000' "\n"
    )
    result = import_paths([write(tmp_path, "x.lp", content)])
    series = by_name(result)
    labels = {"path": "C:\\data", "mount point": "/mnt,x", "k=ey": "v=1"}
    assert {s.name for s in result.series} == {"my disk,io_read bytes", "my disk,io_util"}
    assert all(s.labels == labels for s in series.values())
    assert [s.values.tolist() for s in result.series] == [[-3.0], [0.1]]
    assert result.warnings == [f"{tmp_path / 'x.lp'}: skipped 1 string field values (only numbers are series)"]


def test_influx_measurement_without_tags_and_negative_timestamp(tmp_path):
    [series] = import_paths([write(tmp_path, "x.lp", "uptime seconds=5 -1000000000\n")]).series
    assert (series.name, series.labels) == ("uptime_seconds", {})
    assert series.timestamps.tolist() == [-(10**9)]


@pytest.mark.parametrize(
    "line, message",
    [
        ("cpu usage=1.5", "missing timestamp"),
        ("cpu", "no fields"),
        ("cpu 1700000000000000000", "malformed field"),
        ("cpu usage= 1700000000000000000", "malformed field"),
        ("cpu,host usage=1 1700000000000000000", "malformed tag"),
        ("cpu,host=a,host=b usage=1 1700000000000000000", "given twice"),
        ("cpu usage=abc 1700000000000000000", "unparseable field value"),
        ("cpu usage=1.5x 1700000000000000000", "unparseable field value"),
        ("cpu usage=-3u 1700000000000000000", "unparseable field value"),
        ('cpu note="open 1700000000000000000', "unterminated string"),
        ("cpu usage=1 2023-10-12T14:30:00Z", "unparseable timestamp"),
        ("cpu usage=1 1700000000.5", "unparseable timestamp"),
        ("cpu usage=1 99999999999999999999", "64 bits"),
        ("cpu v=9223372036854775808i 1700000000000000000", "64 bits"),
        ("cpu v=-9223372036854775809i 1700000000000000000", "64 bits"),
        ("cpu v=99999999999999999999u 1700000000000000000", "64 bits"),
        ("cpu v=18446744073709551616u 1700000000000000000", "64 bits"),
        ("cpu usage=1 1700000000000000000 extra", "after the timestamp"),
    ],
)
def test_influx_malformed_lines_name_file_and_line(tmp_path, line, message):
    path = write(tmp_path, "bad.lp", "# header\ncpu usage=1 1700000000000000000\n" + line + "\n")
    with pytest.raises(FormatError, match=message) as caught:
        import_paths([path])
    assert str(caught.value).startswith(f"{path}:3: ")
    assert "\n" not in str(caught.value)


# Prometheus HTTP API JSON

def prometheus_response(result, result_type="matrix"):
    return json.dumps({"status": "success", "data": {"resultType": result_type, "result": result}})


def test_prometheus_matrix_exact_seconds_and_special_values(tmp_path):
    body = prometheus_response([
        {"metric": {"__name__": "up", "job": "node", "instance": "a:9100"},
         "values": [[1700000000.123, "1"], [1700000015, "NaN"], [1700000030.001, "+Inf"], [1700000045.5, "-Inf"]]},
        {"metric": {"job": "node"}, "values": [[1700000000, "0.1"]]},
    ])
    # JSON numbers must reach the importer untouched, so splice in more digits than a float has.
    body = body.replace("1700000045.5", "1700000045.123456789")
    result = import_paths([write(tmp_path, "query.json", body)])
    series = by_name(result)
    up = series['up{instance="a:9100",job="node"}']
    assert up.timestamps.tolist() == [
        1_700_000_000_123_000_000, 1_700_000_015_000_000_000, 1_700_000_030_001_000_000, 1_700_000_045_123_456_789,
    ]
    assert bits(up.values) == [0x3FF0000000000000, 0x7FF8000000000000, 0x7FF0000000000000, 0xFFF0000000000000]
    unnamed = series['unnamed{job="node"}']
    assert bits(unnamed.values) == [0x3FB999999999999A]


def test_prometheus_instant_vector(tmp_path):
    body = prometheus_response([{"metric": {"__name__": "up"}, "value": [1700000000, "1"]}], "vector")
    [series] = import_paths([write(tmp_path, "now.json", body)]).series
    assert (series.name, series.timestamps.tolist(), series.values.tolist()) == ("up", [T0_NS], [1.0])


@pytest.mark.parametrize(
    "body, message",
    [
        ('{"status":"error","errorType":"bad_data","error":"parse error at char 4"}',
         "the query failed: bad_data: parse error at char 4"),
        (prometheus_response([], "scalar"), "resultType is 'scalar'"),
        (prometheus_response([{"metric": {"__name__": "m"}, "values": [[1700000000, "x"]]}]),
         r"data\.result\[0\]\.values\[0\]: unparseable value 'x'"),
        (prometheus_response([{"metric": {}, "values": [[1, "1"], [1700000000, 2]]}]),
         r"data\.result\[0\]\.values\[1\]: value 2 is not a string"),
        (prometheus_response([{"metric": {}, "values": [[1, "1"], ["soon", "2"]]}]),
         r"data\.result\[0\]\.values\[1\]: timestamp 'soon'"),
        (prometheus_response([{"metric": {}, "values": [[1, "1", 3]]}]), r"values\[0\]: expected \[time"),
        (prometheus_response([{"metric": {}, "values": [[1, "1"]]}]).replace("[1,", "[1e99,"), "outside the years"),
        (prometheus_response([{"metric": {"__name__": 7}, "values": []}]), "string labels"),
        ("[1, 2]", "expected a JSON object"),
    ],
)
def test_prometheus_errors_name_file_and_json_path(tmp_path, body, message):
    path = write(tmp_path, "q.json", body)
    with pytest.raises(FormatError, match=message) as caught:
        import_paths([path])
    assert str(caught.value).startswith(f"{path}: ")


def test_invalid_json_names_the_line(tmp_path):
    path = write(tmp_path, "q.json", '{"status": "success",\n "data": {\n  "result": [,]\n}}')
    with pytest.raises(FormatError, match="not valid JSON") as caught:
        import_paths([path])
    assert str(caught.value).startswith(f"{path}:3: ")


# Errors in CSV and in the arguments

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
    with pytest.raises(FormatError, match=message) as caught:
        import_paths([path])
    assert str(caught.value).startswith(f"{path}:{line}: ")
    assert "\n" not in str(caught.value)


def test_a_missing_file_is_a_format_error(tmp_path):
    missing = tmp_path / "nope.csv"
    with pytest.raises(FormatError) as caught:
        import_paths([missing])
    assert str(caught.value) == f"{missing}: no such file"
    assert isinstance(caught.value, ValueError)


def test_an_unknown_format_is_refused(tmp_path):
    path = write(tmp_path, "m.csv", "timestamp,value\n1,1\n")
    with pytest.raises(FormatError, match="unknown format 'parquet'"):
        import_paths([path], fmt="parquet")


def test_an_undetectable_file_asks_for_a_format(tmp_path):
    path = write(tmp_path, "mystery.dat", "just some words\n")
    with pytest.raises(FormatError, match="cannot tell the format") as caught:
        import_paths([path])
    assert str(caught.value).startswith(f"{path}: ")


# Detection and the fmt override

LINE_PROTOCOL = "cpu,host=a usage=1.5 1700000000000000000\n"
PROMETHEUS = prometheus_response([{"metric": {"__name__": "up"}, "values": [[1700000000, "1"]]}])


@pytest.mark.parametrize(
    "name, content, expected",
    [
        ("a.csv", "timestamp,value\n1,1\n", "csv"),
        ("a.CSV", "timestamp,metric,value\n1,m,1\n", "csv-long"),
        ("a.json", PROMETHEUS, "prometheus-json"),
        ("a.lp", LINE_PROTOCOL, "influx"),
        ("a.line", LINE_PROTOCOL, "influx"),
        ("a.influx", LINE_PROTOCOL, "influx"),
        ("a.txt", "\n\ntimestamp,value\n1,1\n", "csv"),
        ("a.txt", "Timestamp, Metric_Name, value\n1,m,1\n", "csv-long"),
        ("a.txt", "\n  " + PROMETHEUS, "prometheus-json"),
        ("a.txt", "# influx export\n" + LINE_PROTOCOL, "influx"),
        ("a", LINE_PROTOCOL, "influx"),
        ("a.txt", "disk\\ io,host=a read=1i 1700000000000000000\n", "influx"),
    ],
)
def test_detection_by_extension_then_content(tmp_path, name, content, expected):
    path = write(tmp_path, name, content)
    assert detect_format(path) == expected
    assert import_paths([path]).formats == {str(path): expected}


def test_the_extension_wins_over_the_content(tmp_path):
    path = write(tmp_path, "looks-like.csv", LINE_PROTOCOL)
    with pytest.raises(FormatError, match="missing column"):
        import_paths([path])


def test_fmt_overrides_detection(tmp_path):
    path = write(tmp_path, "export.csv", LINE_PROTOCOL)
    [series] = import_paths([path], fmt="influx").series
    assert series.display_name() == 'cpu_usage{host="a"}'


def test_fmt_csv_is_the_simple_form_only(tmp_path):
    path = write(tmp_path, "d.txt", "timestamp,metric,value\n1700000000,m,1\n")
    with pytest.raises(FormatError, match="long CSV form"):
        import_paths([path], fmt="csv")
    [series] = import_paths([path], fmt="csv-long").series
    assert series.name == "m"


def test_fmt_csv_long_requires_a_metric_column(tmp_path):
    path = write(tmp_path, "d.csv", "timestamp,value\n1700000000,1\n")
    with pytest.raises(FormatError, match="missing column 'metric' or 'metric_name'"):
        import_paths([path], fmt="csv-long")


def test_a_folder_with_a_non_csv_format_is_refused(tmp_path):
    write(tmp_path, "d/a.csv", "timestamp,value\n1,1\n")
    with pytest.raises(FormatError, match="folder imports its CSV files"):
        import_paths([tmp_path / "d"], fmt="influx")


def test_formats_lists_every_name():
    assert FORMATS == ("csv", "csv-long", "influx", "prometheus-json")


def test_mixed_formats_in_one_import(tmp_path):
    paths = [
        write(tmp_path, "a/cpu.csv", "timestamp,value\n1700000000,1\n"),
        write(tmp_path, "b.lp", LINE_PROTOCOL),
        write(tmp_path, "c.json", PROMETHEUS),
    ]
    result = import_paths(paths)
    assert set(by_name(result)) == {'cpu{source="a"}', 'cpu_usage{host="a"}', "up{}"}
    assert list(result.formats.values()) == ["csv", "influx", "prometheus-json"]


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


# Property: damaged input is refused with a FormatError, never another exception

SEED_FILES = [
    ("a.csv", "timestamp,value\r\n1700000000,1.5\n2023-10-12T14:30:00.5+02:00,NaN\n"),
    ("b.csv", 'timestamp,metric,host,value\n1700000000,cpu,"a,b",1\n1.5e9,mem,,-Inf\n'),
    ("c.lp", '# c\nw,loc\\ a=us\\,mid t=82,s="a b\\"c",n=12i,u=3u,ok=true 1465839830100400200\ncpu v=1 -5\n'),
    ("d.json", PROMETHEUS),
]
edits = st.lists(
    st.tuples(st.integers(0, 200), st.integers(0, 2), st.sampled_from(list('0.,=" \\\n\r#{}[]:eiutZ+-_é'))),
    min_size=1,
    max_size=4,
)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(SEED_FILES), edits, st.sampled_from((None,) + FORMATS))
def test_damaged_input_imports_or_raises_a_one_line_format_error(tmp_path_factory, seed, changes, fmt):
    name, text = seed
    chars = list(text)
    for position, action, char in changes:
        position %= len(chars) + 1
        if action == 0:
            chars.insert(position, char)
        elif chars:
            del chars[min(position, len(chars) - 1)]
            if action == 2:
                chars.insert(position, char)
    path = write(tmp_path_factory.mktemp("damaged"), name, "".join(chars))
    try:
        result = import_paths([path], fmt)
    except FormatError as error:
        assert str(error).startswith(str(path)) and "\n" not in str(error)
    else:
        assert result.series and all(len(s) for s in result.series)


def test_a_single_path_needs_no_list(tmp_path):
    path = write(tmp_path, "m.csv", "timestamp,value\n1700000000,1\n")
    assert import_paths(str(path)).files == [str(path)]


def test_an_import_saves_and_loads_as_a_dataset_unchanged(tmp_path):
    paths = [
        write(tmp_path, "h/m.csv", "timestamp,value\n1700000001,NaN\n1700000000,-0.0\n"),
        write(tmp_path, "b.lp", LINE_PROTOCOL),
        write(tmp_path, "c.json", PROMETHEUS),
    ]
    imported = import_paths(paths).series
    save_dataset(imported, tmp_path / "00_dataset.bin")
    loaded, _info = load_dataset(tmp_path / "00_dataset.bin")
    assert_identical(imported, loaded)


@pytest.mark.parametrize("content,name", [
    ("timestamp,value\n1e-99999999999999999999,1\n", "huge.csv"),
    ("timestamp,value\n" + "9" * 5000 + ",1\n", "long.csv"),
    ("m f=" + "9" * 5000 + "i 1\n", "long.lp"),
    ("[" * 200_000, "deep.json"),
    ('{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"up","job":"\\ud800"},'
     '"values":[[1,"1"]]}]}}', "surrogate.json"),
    ("timestamp,value\n\u0661\u0667\u0660\u0660\u0660\u0660\u0660\u0660\u0660\u0660,1\n", "arabic_digits.csv"),
])
def test_absurd_input_is_a_format_error_naming_the_file(tmp_path, content, name):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(FormatError, match=name):
        import_paths([path])


# Memory: big files import in memory proportional to their points, not to Python objects per sample

def traced_peak_bytes(function):
    import tracemalloc

    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_prometheus_json_imports_within_a_few_times_its_size(tmp_path):
    # Prometheus returns at most 11,000 points per series from query_range; a big file is many series.
    samples = ",".join(f'[{T0 + 15 * i}.{i % 1000:03d},"{i * 0.25}"]' for i in range(6_000))
    result = ",".join(f'{{"metric":{{"__name__":"m","i":"{k}"}},"values":[{samples}]}}' for k in range(40))
    path = write(tmp_path, "q.json", f'{{"status":"success","data":{{"resultType":"matrix","result":[{result}]}}}}')
    peak = traced_peak_bytes(lambda: import_paths([path]))
    assert peak < 3 * path.stat().st_size, (peak, path.stat().st_size)


@pytest.mark.parametrize("name, header, row", [
    ("m.csv", "timestamp,value", "{t},{v}"),
    ("l.csv", "timestamp,metric,host,value", "{t},cpu,h\u00e9\u2713,{v}"),  # non-ASCII text
])
def test_csv_imports_in_memory_near_its_points_not_its_text(tmp_path, name, header, row):
    rows = "".join(row.format(t=T0 * 1000 + 15_000 * i, v=i * 0.25) + "\n" for i in range(200_000))
    path = write(tmp_path, name, header + "\n" + rows)
    peak = traced_peak_bytes(lambda: import_paths([path]))
    assert peak < 16 * 200_000 * 1.5 + 4 * 2**20, (peak, path.stat().st_size)


def test_order_warnings_do_not_overflow_at_the_int64_extremes(tmp_path):
    path = write(tmp_path, "x.lp", "m v=1 -9223372036854775808\nm v=2 9223372036854775807\nm v=3 9223372036854775807\n")
    result = import_paths([path])
    assert result.warnings == ["m_v{}: 1 duplicate and 0 out-of-order timestamps, kept as given"]
