"""Exporters (lib/data/exporters/): hand-computed text for small cases, the round trip through the
importers on arbitrary datasets, bit for bit, and refusals of exactly what each format cannot carry.

`cannot_carry` below restates each format's rules from its module docstring, independently of the
code: the property tests check that an export is refused exactly when it says so, and that
everything else comes back identical.
"""
import math
import re

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from lib.data import exporters
from lib.data.dataset import Series, assert_identical, canonical_order, float_bits, total_points
from lib.data.exporters import FORMATS, export_file, export_series, samples
from lib.data.importers import import_paths, parse_timestamp
from lib.data.importers.timestamps import parse_seconds
from lib.errors import UnrepresentableError
from tests.conftest import INT64_MAX, INT64_MIN, floats_from_bits, int64s
from tests.importer_inputs import bits

NAN = math.nan  # 0x7ff8000000000000, the quiet NaN every reader makes of "NaN"
STALE_MARKER = floats_from_bits(0x7FF0000000000002)[0]
SUFFIXES = {
    "csv-long": ".csv", "csv": ".csv", "influx": ".lp", "openmetrics": ".om", "prometheus-json": ".json",
}


def exported_text(series_list, fmt, label_names=None):
    stream = RecordingStream()
    export_series(series_list, fmt, stream, label_names)
    return stream.text()


class RecordingStream:
    """A binary stream that keeps every write apart."""

    def __init__(self):
        self.writes = []

    def write(self, data):
        assert isinstance(data, bytes)
        self.writes.append(data)

    def text(self):
        return b"".join(self.writes).decode("utf-8")


# Hand-computed text

def test_seconds_text_edges():
    cases = {
        0: "0", 1: "0.000000001", -1: "-0.000000001", 10**9: "1", -(10**9): "-1",
        1_500_000_000: "1.5", -1_500_000_000: "-1.5", 1_700_000_000_120_000_000: "1700000000.12",
        INT64_MAX: "9223372036.854775807", INT64_MIN: "-9223372036.854775808",
    }
    assert {ns: samples.seconds_text(ns) for ns in cases} == cases


@settings(max_examples=300, deadline=None)
@given(int64s)
def test_seconds_text_reads_back_exactly_as_seconds(nanoseconds):
    text = samples.seconds_text(nanoseconds)
    assert parse_timestamp(text) == nanoseconds  # the CSV reader, which tells the unit by magnitude
    assert parse_seconds(text) == nanoseconds  # OpenMetrics


def test_csv_long_text():
    series = [
        Series("cpu", {"host": "a", "note": 'x,"y"'}, [1_700_000_000_500_000_000, 1_700_000_015_000_000_000],
               [0.1, -0.0]),
        Series("up", {"host": "b"}, [-1], [NAN]),
    ]
    assert exported_text(series, "csv-long") == (
        "timestamp,metric,value,host,note\n"
        '1700000000.5,cpu,0.1,a,"x,""y"""\n'
        '1700000015,cpu,-0.0,a,"x,""y"""\n'
        "-0.000000001,up,NaN,b,\n"
    )


def test_csv_long_uses_the_label_names_given_and_refuses_a_label_not_among_them():
    series = [Series("m", {"b": "1"}, [0], [np.inf])]
    assert exported_text(series, "csv-long", ["a", "b"]) == "timestamp,metric,value,a,b\n0,m,+Inf,,1\n"
    with pytest.raises(ValueError, match="label_names does not list"):
        exported_text(series, "csv-long", ["a"])


def test_csv_text_is_one_series_without_its_name():
    series = [Series("x", {"ignored": "y"}, [INT64_MAX, 2], [5e-324, -np.inf])]
    assert exported_text(series, "csv") == "timestamp,value\n9223372036.854775807,5e-324\n0.000000002,-Inf\n"
    with pytest.raises(UnrepresentableError, match=r'csv: holds one series, and y\{\} is a second after x\{'):
        exported_text(series + [Series("y", {}, [1], [1.0])], "csv")


def test_influx_text():
    series = [
        Series("cpu", {"host": "a b", "k=": "v,1", "p": "c:\\d"}, [1_700_000_000_000_000_001], [1.5]),
        Series("disk io,x", {}, [-5, -5], [1e300, -0.0]),
    ]
    assert exported_text(series, "influx") == (
        "cpu,host=a\\ b,k\\==v\\,1,p=c:\\\\d value=1.5 1700000000000000001\n"
        "disk\\ io\\,x value=1e+300 -5\n"
        "disk\\ io\\,x value=-0.0 -5\n"
    )


def test_openmetrics_text():
    series = [
        Series("http_requests_total", {"code": "200", "path": 'a\\b"c\nd'},
               [1_700_000_000_500_000_000, 1_700_000_015_000_000_000], [1027.0, np.inf]),
        Series("up", {"job": "a"}, [0], [NAN]),
        Series("up", {"job": "b"}, [-1], [-1e-05]),
    ]
    assert exported_text(series, "openmetrics") == (
        "# TYPE http_requests_total unknown\n"
        'http_requests_total{code="200",path="a\\\\b\\"c\\nd"} 1027.0 1700000000.5\n'
        'http_requests_total{code="200",path="a\\\\b\\"c\\nd"} +Inf 1700000015\n'
        "# TYPE up unknown\n"
        'up{job="a"} NaN 0\n'
        'up{job="b"} -1e-05 -0.000000001\n'
        "# EOF\n"
    )
    assert exported_text([], "openmetrics") == "# EOF\n"


def test_prometheus_json_text():
    series = [
        Series("up", {"job": "nöde"}, [1_700_000_000_123_000_000, INT64_MIN], [1.0, -np.inf]),
        Series("x", {}, [5], [NAN]),
    ]
    assert exported_text(series, "prometheus-json") == (
        '{"status":"success","data":{"resultType":"matrix","result":[\n'
        '{"metric":{"__name__":"up","job":"nöde"},'
        '"values":[[1700000000.123,"1.0"],[-9223372036.854775808,"-Inf"]]},\n'
        '{"metric":{"__name__":"x"},"values":[[0.000000005,"NaN"]]}\n'
        "]}}\n"
    )
    empty = exported_text([], "prometheus-json")
    assert empty == '{"status":"success","data":{"resultType":"matrix","result":[\n]}}\n'


def test_a_series_without_points_writes_nothing():
    series = [Series("a", {}, [], []), Series("b", {"k": "v"}, [1], [2.0])]
    assert exported_text(series, "influx") == "b,k=v value=2.0 1\n"
    assert exported_text(series, "csv-long") == "timestamp,metric,value,k\n0.000000001,b,2.0,v\n"


# Refusals: one line, naming the format, the series, the point and what

def test_the_refusal_names_format_series_point_and_what():
    values = np.arange(18.0)
    values[17] = NAN
    series = [Series("cpu", {"host": "a"}, np.arange(18), values)]
    with pytest.raises(UnrepresentableError) as caught:
        exported_text(series, "influx")
    assert str(caught.value) == 'influx: cpu{host="a"} point 17: line protocol has no NaN'


@pytest.mark.parametrize("fmt", ["csv-long", "csv", "openmetrics", "prometheus-json"])
def test_the_stale_marker_is_refused_not_written_as_nan(fmt):
    series = [Series("up", {"note": "two\nlines"}, [1, 2], [1.0, STALE_MARKER])]
    with pytest.raises(UnrepresentableError) as caught:
        exported_text(series, fmt)
    message = str(caught.value)
    assert message.startswith(f'{fmt}: up{{note="two\\nlines"}} point 1: NaN 0x7ff0000000000002')
    assert "stale marker" in message and "\n" not in message


@pytest.mark.parametrize("fmt, series, what", [
    ("influx", Series("m", {}, [1], [np.inf]), "point 0: line protocol has no infinity"),
    ("influx", Series("#m", {}, [1], [1.0]), "measurement starting with '#'"),
    ("influx", Series("m", {"k": ""}, [1], [1.0]), "tag 'k' has an empty value"),
    ("influx", Series("m", {"k": "a\nb"}, [1], [1.0]), "line feed"),
    ("openmetrics", Series("m", {}, [2, 2], [1.0, 1.0]), "point 1: timestamp not after the previous one"),
    ("openmetrics", Series("m-1", {}, [1], [1.0]), "metric name 'm-1' is not an OpenMetrics name"),
    ("openmetrics", Series("m", {"_k": "v"}, [1], [1.0]), "label name '_k' begins with '_'"),
    ("openmetrics", Series("m", {"k": ""}, [1], [1.0]), "label 'k' is empty"),
    ("csv-long", Series("m", {"Time": "x"}, [1], [1.0]), "label name 'Time' would be read as the 'time'"),
    ("csv-long", Series("m", {" k": "x"}, [1], [1.0]), "spaces around it"),
    ("csv-long", Series("m", {"k": ""}, [1], [1.0]), "label 'k' is empty"),
    ("csv-long", Series(" ", {}, [1], [1.0]), "blank metric name"),
    ("prometheus-json", Series("m", {"__name__": "x"}, [1], [1.0]), "label named '__name__'"),
])
def test_what_each_format_cannot_carry_is_refused(fmt, series, what):
    with pytest.raises(UnrepresentableError, match=re.escape(what)):
        exported_text([series], fmt)


def test_a_refusal_midway_leaves_no_file_and_an_existing_one_untouched(tmp_path):
    path = tmp_path / "out.lp"
    path.write_text("before")
    series = [Series("a", {}, [1], [1.0]), Series("b", {}, [1, 2], [1.0, NAN])]
    with pytest.raises(UnrepresentableError, match="point 1"):
        export_file(series, "influx", path)
    assert path.read_text() == "before"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.lp"]
    with pytest.raises(UnrepresentableError):
        export_file(series, "influx", tmp_path / "new.lp")
    assert not (tmp_path / "new.lp").exists()


def test_openmetrics_refuses_series_out_of_canonical_order():
    series = [Series("a", {}, [1], [1.0]), Series("b", {}, [1], [1.0]), Series("a", {"k": "v"}, [1], [1.0])]
    with pytest.raises(ValueError, match="canonical order"):
        exported_text(series, "openmetrics")


def test_an_unknown_format_is_refused():
    with pytest.raises(ValueError, match="unknown export format 'parquet'"):
        exported_text([], "parquet")


# Streaming: series by series, chunk by chunk

@pytest.mark.parametrize("fmt", FORMATS)
def test_series_are_written_one_at_a_time_in_chunks(fmt, monkeypatch):
    monkeypatch.setattr(samples, "CHUNK_POINTS", 3)
    stream = RecordingStream()
    count = 1 if fmt == "csv" else 3
    drawn = []

    def series():
        for index in range(count):
            # Every point of the series before is written before the next series is drawn.
            assert index == 0 or stream.text().count(repr(1000.0 + index - 1)) == 10
            drawn.append(index)
            yield Series(f"m{index}", {"k": "v"}, np.arange(1, 11), np.full(10, 1000.0 + index))

    assert export_series(series(), fmt, stream, label_names=["k"]) == 10 * count
    assert drawn == list(range(count))
    written_lines = [write.decode().count("\n") for write in stream.writes]
    assert max(written_lines) <= 3 + 2  # a chunk of points, plus a family or series heading


# Round trips through the importers, and refusals of exactly what a format cannot carry

def cannot_carry(fmt, series_list):
    """The reasons `fmt` cannot write this dataset, from the rules in each exporter's docstring."""
    reasons = []
    for s in series_list:
        reasons += _value_reasons(fmt, s.values) + _name_reasons(fmt, s) + _time_reasons(fmt, s.timestamps)
    return reasons


def _value_reasons(fmt, values):
    patterns = float_bits(values)
    if fmt == "influx":
        return ["not finite"] if not np.isfinite(values).all() else []
    return ["NaN payload"] if np.any(np.isnan(values) & (patterns != 0x7FF8000000000000)) else []


def _name_reasons(fmt, s):
    labels, reasons = s.labels, []
    if fmt == "csv-long":
        reasons += ["blank metric"] * (not s.name.strip()) + ["empty value"] * ("" in labels.values())
        reasons += [k for k in labels if not k.strip() or k != k.strip() or k.lower() in CSV_COLUMNS]
    elif fmt == "influx":
        texts = [s.name, *labels, *labels.values()]
        reasons += ["empty tag"] * ("" in texts) + ["line feed"] * any("\n" in t for t in texts)
        reasons += ["line start"] * (s.name[0] in "#\t\r\0")
    elif fmt == "openmetrics":
        valid_metric, valid_label = r"[a-zA-Z_:][a-zA-Z0-9_:]*", r"[a-zA-Z_][a-zA-Z0-9_]*"
        reasons += ["metric name"] * (not re.fullmatch(valid_metric, s.name) or s.name.startswith("_"))
        reasons += [k for k in labels if not re.fullmatch(valid_label, k) or k.startswith("_")]
        reasons += ["empty value"] * ("" in labels.values())
    elif fmt == "prometheus-json":
        reasons += ["__name__"] * ("__name__" in labels)
    return reasons


def _time_reasons(fmt, timestamps):
    if fmt == "openmetrics" and np.any(timestamps[1:] <= timestamps[:-1]):
        return ["timestamps not increasing"]
    return []


def round_trip(tmp_path_factory, series_list, fmt):
    path = tmp_path_factory.mktemp("export") / f"data{SUFFIXES[fmt]}"
    assert export_file(series_list, fmt, path) == total_points(series_list)
    imported = import_paths([path], fmt).series
    if fmt == "csv":  # one series, named after the file: only its points come back
        [expected], [actual] = series_list, imported
        assert actual.timestamps.tolist() == expected.timestamps.tolist()
        assert bits(actual.values) == bits(expected.values)
    else:
        assert_identical(series_list, imported, f"{fmt} round trip")


AWKWARD_TIMESTAMPS = st.sampled_from([
    INT64_MIN, INT64_MAX, INT64_MIN + 1, INT64_MAX - 1, 0, -1, 1, 999_999_999, -(10**9),
    1_700_000_000_123_456_789,
])
timestamps = st.one_of(AWKWARD_TIMESTAMPS, int64s, st.integers(-10**12, 10**12))
exact_values = st.one_of(st.floats(allow_nan=False), st.just(NAN),
                         st.sampled_from([-0.0, 0.0, np.inf, -np.inf, 5e-324, 2.2250738585072009e-308, 0.1]))
payload_nans = st.sampled_from(list(floats_from_bits(
    0x7FF0000000000002, 0x7FF8000000000001, 0xFFF8000000000000, 0x7FF0000000000001, 0xFFFFFFFFFFFFFFFF,
)))
ODD_CHARACTERS = list('aZ9_:,"= \\\n\r\t#{}\x00\xe9\u2713\u00a0\u2028')
odd_text = st.lists(st.sampled_from(ODD_CHARACTERS) | st.characters(blacklist_categories=("Cs",)),
                    max_size=5).map("".join)
prometheus_names = st.from_regex(r"[a-zA-Z:][a-zA-Z0-9_:]{0,8}", fullmatch=True)
label_names = st.from_regex(r"[a-zA-Z][a-zA-Z0-9_]{0,8}", fullmatch=True)
label_values = odd_text.filter(bool)


def points(values, increasing=False):
    """(timestamps, values) of 1 to 6 points; duplicate and decreasing timestamps unless `increasing`."""
    def build(n):
        if increasing:
            times = st.lists(timestamps, min_size=n, max_size=n, unique=True).map(sorted)
        else:
            nearby = st.lists(st.integers(-3, 3), min_size=n, max_size=n)  # often equal or decreasing
            times = st.one_of(st.lists(timestamps, min_size=n, max_size=n), nearby)
        return st.tuples(times, st.lists(values, min_size=n, max_size=n))
    return st.sampled_from([1, 2, 2, 3, 6]).flatmap(build)


def datasets(names, keys, texts, values, increasing=False, max_series=3):
    one = st.tuples(names, st.dictionaries(keys, texts, max_size=3), points(values, increasing))

    def identity(made):
        return made[0], tuple(sorted(made[1].items()))

    unique = st.lists(one, min_size=1, max_size=max_series, unique_by=identity)
    return unique.map(lambda made: canonical_order([Series(n, labels, *pts) for n, labels, pts in made]))


CSV_COLUMNS = {"timestamp", "time", "metric", "metric_name", "value"}
CARRIABLE = {
    "csv-long": datasets(odd_text.filter(str.strip),
                         label_names.filter(lambda k: k.lower() not in CSV_COLUMNS),
                         label_values, exact_values),
    "csv": datasets(odd_text.filter(str.strip), label_names, label_values, exact_values, max_series=1),
    "influx": datasets(odd_text.filter(lambda n: n and "\n" not in n and n[0] not in "#\t\r\0"),
                       label_names, label_values.filter(lambda v: "\n" not in v),
                       st.floats(allow_nan=False, allow_infinity=False)),
    "openmetrics": datasets(prometheus_names, label_names, label_values, exact_values, increasing=True),
    "prometheus-json": datasets(odd_text.filter(bool), odd_text.filter(lambda k: k != "__name__"), odd_text,
                                exact_values),
}


@pytest.mark.parametrize("fmt", FORMATS)
@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_what_a_format_can_carry_comes_back_bit_for_bit(tmp_path_factory, fmt, data):
    series_list = data.draw(CARRIABLE[fmt])
    assert cannot_carry(fmt, series_list) == []
    round_trip(tmp_path_factory, series_list, fmt)




def mostly(usual, odd, ratio=3):
    """`usual` `ratio` times out of ratio + 1, else `odd`: most datasets then carry one problem at most."""
    return st.one_of(*[usual] * ratio, odd)


tricky_label_names = st.sampled_from(["time", "Value", "METRIC_name", "__name__", "_k", " k", "k ", "", "-"])
odd_datasets = datasets(mostly(prometheus_names, odd_text.filter(bool)),
                        mostly(label_names, odd_text | tricky_label_names),
                        mostly(label_values, odd_text), mostly(exact_values, payload_nans, ratio=6))


@pytest.mark.parametrize("fmt", FORMATS)
@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_a_format_refuses_exactly_what_it_cannot_carry(tmp_path_factory, fmt, data):
    series_list = data.draw(odd_datasets if fmt != "csv" else odd_datasets.map(lambda s: s[:1]))
    reasons = cannot_carry(fmt, series_list)
    if reasons:
        path = tmp_path_factory.mktemp("refused") / f"data{SUFFIXES[fmt]}"
        with pytest.raises(UnrepresentableError) as caught:
            export_file(series_list, fmt, path)
        assert not path.exists() and "\n" not in str(caught.value)
    else:
        round_trip(tmp_path_factory, series_list, fmt)


def test_the_package_lists_its_formats():
    assert exporters.FORMATS == ("csv-long", "csv", "influx", "openmetrics", "prometheus-json")
