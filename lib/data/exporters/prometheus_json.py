"""A Prometheus `/api/v1/query_range` response body out (a matrix), written as a stream of text:

    {"status":"success","data":{"resultType":"matrix","result":[
    {"metric":{"__name__":"up","job":"node"},"values":[[1700000000.5,"1.0"],[1700000015,"NaN"]]}
    ]}}

The metric name is the `__name__` label, as the API gives it; values are strings, as the API
writes them ("NaN", "+Inf", "-Inf" for the values JSON numbers cannot hold). Timestamps are JSON
numbers of seconds with the nanoseconds as an exact decimal fraction (Prometheus itself writes
milliseconds); lib/data/importers/prometheus_json.py reads them with Decimal, so none is rounded.
The document is written piece by piece, never held whole: a series' pairs a chunk at a time.

Refused: a label named `__name__` (the API's metric name; it would overwrite the series' own) and
NaN payloads (samples.py).
"""
import json

from lib.data.exporters.samples import point_chunks, seconds_text, unrepresentable, value_texts

FORMAT = "prometheus-json"
NAME_LABEL = "__name__"
_DOCUMENT_START = '{"status":"success","data":{"resultType":"matrix","result":[\n'
_DOCUMENT_END = "]}}\n"


def query_range_text(series):
    """The response body for every series, a chunk at a time."""
    yield _DOCUMENT_START
    separator = ""
    for s in series:
        pair_separator = ""
        yield f'{separator}{{"metric":{_metric_object(s)},"values":['
        for start, timestamps, values in point_chunks(s):
            texts = value_texts(FORMAT, s, start, values)
            yield pair_separator + ",".join(f'[{seconds_text(t)},"{v}"]' for t, v in zip(timestamps, texts))
            pair_separator = ","
        yield "]}"
        separator = ",\n"
    yield "\n" + _DOCUMENT_END if separator else _DOCUMENT_END


def _metric_object(series):
    if NAME_LABEL in series.labels:
        raise unrepresentable(FORMAT, series, f"a label named {NAME_LABEL!r} would read as the metric name")
    metric = {NAME_LABEL: series.name, **dict(sorted(series.labels.items()))}
    return json.dumps(metric, ensure_ascii=False, separators=(",", ":"))
