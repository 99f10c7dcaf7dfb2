"""Prometheus HTTP API JSON (lib/data/importers/prometheus_json.py)."""
import pytest

from lib.data.importers import import_paths
from tests.importer_inputs import (
    T0, T0_NS, bits, by_name, import_error, prometheus_response, traced_peak_bytes, write,
)


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
    error = import_error([path], message)
    assert error.startswith(f"{path}: ")


def test_invalid_json_names_the_line(tmp_path):
    path = write(tmp_path, "q.json", '{"status": "success",\n "data": {\n  "result": [,]\n}}')
    error = import_error([path], "not valid JSON")
    assert error.startswith(f"{path}:3: ")


def test_prometheus_json_imports_within_a_few_times_its_size(tmp_path):
    # Prometheus returns at most 11,000 points per series from query_range; a big file is many series.
    samples = ",".join(f'[{T0 + 15 * i}.{i % 1000:03d},"{i * 0.25}"]' for i in range(3_000))
    result = ",".join(f'{{"metric":{{"__name__":"m","i":"{k}"}},"values":[{samples}]}}' for k in range(40))
    path = write(tmp_path, "q.json", f'{{"status":"success","data":{{"resultType":"matrix","result":[{result}]}}}}')
    peak = traced_peak_bytes(lambda: import_paths([path]))
    assert peak < 3 * path.stat().st_size, (peak, path.stat().st_size)
