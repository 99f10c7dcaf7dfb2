"""OpenMetrics 1.0 text (lib/data/importers/openmetrics.py), on hand-written expositions."""
import pytest

from lib.data.importers import import_paths
from tests.importer_inputs import T0_NS, bits, by_name, import_error, traced_peak_bytes, write

EXPOSITION = (
    "# TYPE http_requests counter\n"
    "# HELP http_requests Requests \\\"served\\\".\n"
    '# UNIT http_requests \n'
    'http_requests_total{code="200",path="/a \\"b\\"\\\\c\\nd"} 1027 1700000000.5\n'
    'http_requests_total{code="200",path="/a \\"b\\"\\\\c\\nd"} 1031 1700000015.5'
    ' # {trace_id="x y"} 1 1700000015.2\n'
    'http_requests_created{code="200",path="/a \\"b\\"\\\\c\\nd"} 1699999000 1700000000.5\n'
    "# TYPE latency histogram\n"
    'latency_bucket{le="0.1"} 3 1700000000\n'
    'latency_bucket{le="+Inf"} 5 1700000000 # {} 0.054\n'
    "latency_count{} 5 1.7e9\n"
    "latency_sum 0.75 1700000000\n"
    'up{job="node",empty="",odd="\\a"} NaN 1700000000.000000001\n'
    'up{job="node",empty="",odd="\\a"} -Inf -1.5\n'
    "# EOF\n"
)


def test_every_sample_is_a_point_of_the_series_named_by_its_sample_name(tmp_path):
    path = write(tmp_path, "metrics.om", EXPOSITION)
    result = import_paths([path])
    series = by_name(result)
    path_label = '/a "b"\\c\nd'  # the label value written escaped above, decoded
    assert list(series) == [
        f'http_requests_created{{code="200",path="{path_label}"}}',
        f'http_requests_total{{code="200",path="{path_label}"}}',
        "latency_bucket{le=\"+Inf\"}",
        "latency_bucket{le=\"0.1\"}",
        "latency_count{}",
        "latency_sum{}",
        'up{job="node",odd="\\a"}',  # the empty label is no label; an undefined escape keeps its backslash
    ]
    total = series[f'http_requests_total{{code="200",path="{path_label}"}}']
    assert total.timestamps.tolist() == [T0_NS + 500_000_000, T0_NS + 15_500_000_000]
    assert bits(total.values) == bits([1027.0, 1031.0])
    assert series["latency_count{}"].timestamps.tolist() == [T0_NS]
    assert bits(series["latency_sum{}"].values) == bits([0.75])
    up = series['up{job="node",odd="\\a"}']
    assert up.timestamps.tolist() == [T0_NS + 1, -1_500_000_000]
    assert bits(up.values) == [0x7FF8000000000000, 0xFFF0000000000000]
    assert result.formats == {str(path): "openmetrics"}
    assert f"{path}: skipped 2 exemplars (only samples are series)" in result.warnings


def test_the_final_line_feed_after_eof_is_optional(tmp_path):
    [series] = import_paths([write(tmp_path, "m.om", "m 1 0\n# EOF")]).series
    assert (series.name, series.timestamps.tolist()) == ("m", [0])


@pytest.mark.parametrize("content, line, message", [
    ("m 1\n# EOF\n", 1, "missing timestamp"),
    ('m 1 # {a="b"} 1 2\n# EOF\n', 1, "missing timestamp"),
    ("m 1 1\n# EOF\nm 2 2\n", 3, "text after '# EOF'"),
    ("m 1 1\n# EOF\n\n", 3, "text after '# EOF'"),
    ("m 1 1\r\n# EOF\n", 1, "CR LF"),
    ("m 1 1\n\n# EOF\n", 2, "blank line"),
    ("# a comment\nm 1 1\n# EOF\n", 1, "unexpected line '# a comment'"),
    ("# TYPE m countr\n# EOF\n", 1, "unknown metric type 'countr'"),
    ("# TYPE m gauge\n# HELP m x\n# TYPE m gauge\n# EOF\n", 3, "a second # TYPE line for m"),
    ('m{a="1} 1 1\n# EOF\n', 1, "malformed labels"),
    ('m{1a="x"} 1 1\n# EOF\n', 1, "malformed labels"),
    ('m{a="1",a="2"} 1 1\n# EOF\n', 1, "label 'a' given twice"),
    ("m x 1\n# EOF\n", 1, "unparseable value 'x'"),
    ("m  1 1\n# EOF\n", 1, "unparseable value ''"),
    ("m 1 yesterday\n# EOF\n", 1, "unparseable timestamp 'yesterday'"),
    ("m 1 NaN\n# EOF\n", 1, "unparseable timestamp 'NaN'"),
    ("m 1 9223372037\n# EOF\n", 1, "outside the years 1677-2262"),
    ("m 1 1e99999999999\n# EOF\n", 1, "outside the years 1677-2262"),
    ("m 1 1 2\n# EOF\n", 1, "unexpected text after the timestamp"),
    ("1m 1 1\n# EOF\n", 1, "expected a metric name"),
    ("m; 1 1\n# EOF\n", 1, "malformed sample"),
])
def test_malformed_expositions_name_file_and_line(tmp_path, content, line, message):
    path = write(tmp_path, "bad.om", content)
    error = import_error([path], message)
    assert error.startswith(f"{path}:{line}: ") and "\n" not in error


def test_text_without_eof_is_refused_naming_the_prometheus_text_format(tmp_path):
    path = write(tmp_path, "node.prom", "# HELP up Up.\n# TYPE up gauge\nup 1 1700000000\n")
    error = import_error([path], "no '# EOF' line")
    assert error.startswith(f"{path}: ") and "0.0.4" in error and "millisecond" in error


def test_millisecond_timestamps_are_refused_naming_the_prometheus_text_format(tmp_path):
    path = write(tmp_path, "node.prom", "# HELP up Up.\n# TYPE up gauge\nup 1 1700000000000\n")
    error = import_error([path], "outside the years 1677-2262 as seconds")
    assert error.startswith(f"{path}:3: ") and "0.0.4 counts milliseconds" in error


def test_an_exposition_of_metadata_only_has_no_points(tmp_path):
    import_error([write(tmp_path, "m.om", "# TYPE m gauge\n# EOF\n")], "no data points")


def test_openmetrics_imports_in_memory_near_its_points_not_its_text(tmp_path):
    count = 100_000
    lines = "".join(f'cpu_seconds_total{{host="h\u00e9\u2713"}} {i * 0.25} {1700000000 + 15 * i}.5\n'
                    for i in range(count))
    path = write(tmp_path, "big.om", "# TYPE cpu_seconds counter\n" + lines + "# EOF\n")
    peak = traced_peak_bytes(lambda: import_paths([path]))
    assert peak < 16 * count * 1.5 + 4 * 2**20, (peak, path.stat().st_size)
