"""The Prometheus text exporter (lib/data/exporters/prometheus_text.py): hand-written text, refusals
of exactly what the format cannot carry, and the round trip through a reader written here from the
format's rules (no importer of the project reads it: it is for VictoriaMetrics to ingest)."""
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib.data.dataset import NS_PER_MS, Series, assert_identical, canonical_order, float_bits
from lib.data.exporters import FORMATS, INGEST_FORMATS, export_file, export_series
from lib.errors import UnrepresentableError
from tests.conftest import INT64_MAX, INT64_MIN, floats_from_bits
from tests.test_exporters import RecordingStream, exact_values, label_values, payload_nans, prometheus_names

FMT = "prometheus-text"
STALE_MARKER = floats_from_bits(0x7FF0000000000002)[0]


def text_of(series_list):
    stream = RecordingStream()
    export_series(series_list, FMT, stream)
    return stream.text()


def test_the_text_by_hand():
    series = [
        Series("http_requests_total", {"code": "200", "path": 'a\\b"c\nd'},
               [1_700_000_000_500_000_000, 1_700_000_015_000_000_000], [1027.0, np.inf]),
        Series("up", {"job": "a"}, [0, -1_000_000], [np.nan, -0.0]),
        Series("up", {"job": "b"}, [5_000_000, 5_000_000], [-1e-05, 5e-324]),
    ]
    assert text_of(series) == (
        "# TYPE http_requests_total untyped\n"
        'http_requests_total{code="200",path="a\\\\b\\"c\\nd"} 1027.0 1700000000500\n'
        'http_requests_total{code="200",path="a\\\\b\\"c\\nd"} +Inf 1700000015000\n'
        "# TYPE up untyped\n"
        'up{job="a"} NaN 0\n'
        'up{job="a"} -0.0 -1\n'
        'up{job="b"} -1e-05 5\n'
        'up{job="b"} 5e-324 5\n'
    )
    assert text_of([]) == ""
    assert text_of([Series("x", {}, [], [])]) == ""


def test_it_is_an_ingest_format_not_one_the_importers_read():
    assert INGEST_FORMATS == (FMT,) and FMT not in FORMATS


@pytest.mark.parametrize("series, what", [
    (Series("m", {}, [NS_PER_MS, NS_PER_MS + 1], [1.0, 2.0]),
     "point 1: timestamp 1000001 ns is not a whole millisecond"),
    (Series("m-1", {}, [0], [1.0]), "metric name 'm-1' is not a Prometheus name"),
    (Series("m", {"k-1": "v"}, [0], [1.0]), "label name 'k-1' is not a Prometheus name"),
    (Series("m", {"__name__": "n"}, [0], [1.0]), "label name '__name__' begins with '__'"),
    (Series("m", {"k": ""}, [0], [1.0]), "label 'k' is empty"),
    (Series("m", {}, [0, 1_000_000], [1.0, STALE_MARKER]),
     "point 1: NaN 0x7ff0000000000002 (Prometheus' stale"),
])
def test_what_the_format_cannot_carry_is_refused(series, what, tmp_path):
    with pytest.raises(UnrepresentableError, match=re.escape(what)):
        export_file([series], FMT, tmp_path / "out.prom")
    assert not (tmp_path / "out.prom").exists()


def test_series_out_of_canonical_order_are_a_programming_error():
    with pytest.raises(ValueError, match="canonical order"):
        text_of([Series("b", {}, [0], [1.0]), Series("a", {}, [0], [1.0])])


# The round trip, through a reader that follows the format's rules

LINE = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+) (-?\d+)")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)')
UNESCAPED = {"\\": "\\", '"': '"', "n": "\n"}


def read_text(text):
    points = {}
    for line in text.split("\n")[:-1]:  # every line ends in a line feed (a CR in a label is text)
        if line.startswith("# TYPE "):
            continue
        name, labels_text, value, milliseconds = LINE.fullmatch(line).groups()
        labels = {k: re.sub(r"\\(.)", lambda m: UNESCAPED[m.group(1)], v)
                  for k, v in LABEL.findall(labels_text or "")}
        key = (name, tuple(sorted(labels.items())))
        points.setdefault(key, []).append((int(milliseconds) * NS_PER_MS, float(value)))
    return canonical_order([Series(name, dict(labels), [t for t, _ in pts], [v for _, v in pts])
                            for (name, labels), pts in points.items()])


milliseconds = st.one_of(st.integers(INT64_MIN // NS_PER_MS + 1, INT64_MAX // NS_PER_MS), st.integers(-3, 3))
ingest_label_names = st.from_regex(r"[a-zA-Z][a-zA-Z0-9_]{0,8}", fullmatch=True)


@st.composite
def carriable(draw):
    """Datasets the format can carry: whole milliseconds, Prometheus names, no NaN payload."""
    identities = st.tuples(prometheus_names, st.dictionaries(ingest_label_names, label_values, max_size=3))
    made = draw(st.lists(identities, min_size=1, max_size=3,
                         unique_by=lambda m: (m[0], tuple(sorted(m[1].items())))))
    series = []
    for name, labels in made:
        n = draw(st.integers(1, 6))
        times = [ms * NS_PER_MS for ms in draw(st.lists(milliseconds, min_size=n, max_size=n))]
        series.append(Series(name, labels, times, draw(st.lists(exact_values, min_size=n, max_size=n))))
    return canonical_order(series)


@settings(max_examples=80, deadline=None)
@given(carriable())
def test_what_the_format_can_carry_comes_back_bit_for_bit(series_list):
    assert_identical(series_list, read_text(text_of(series_list)), "prometheus-text round trip")


@settings(max_examples=60, deadline=None)
@given(carriable(), st.sampled_from(["sub-ms", "payload", "reserved", "empty"]), st.data())
def test_one_thing_it_cannot_carry_is_refused(series_list, problem, data):
    s = series_list[-1]
    timestamps, values, labels = s.timestamps.copy(), s.values.copy(), dict(s.labels)
    if problem == "sub-ms":
        offset = data.draw(st.integers(1, NS_PER_MS - 1))  # toward zero: no int64 overflow
        timestamps[-1] += offset if timestamps[-1] < 0 else -offset
    elif problem == "payload":
        values[-1] = data.draw(payload_nans)
        assert float_bits(values[-1:])[0] != 0x7FF8000000000000
    elif problem == "reserved":
        labels["__" + data.draw(ingest_label_names)] = "x"
    else:
        labels[data.draw(ingest_label_names)] = ""
    broken = series_list[:-1] + [Series(s.name, labels, timestamps, values)]
    with pytest.raises(UnrepresentableError) as caught:
        text_of(canonical_order(broken))
    assert str(caught.value).startswith(f"{FMT}: ") and "\n" not in str(caught.value)
