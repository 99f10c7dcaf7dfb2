"""Prometheus text exposition format 0.0.4 out, with a millisecond timestamp on every sample, as
VictoriaMetrics' `/api/v1/import/prometheus` reads it:

    # TYPE http_requests_total untyped
    http_requests_total{code="200",path="/a \\"b\\""} 1027.0 1700000000500
    http_requests_total{code="200",path="/a \\"b\\""} 1031.0 1700000015500
    # TYPE up untyped
    up NaN 1700000000000

The lines are OpenMetrics' (openmetrics.py) with three differences: the timestamp is a whole number
of milliseconds, a family of unknown type is "untyped", and nothing ends the text (no `# EOF`). A
scrape's exposition holds one sample per series; an import, as here, holds every point of a series,
a line each, in the order of the series' points: the format has no rule on the order of
timestamps, and the importer sorts them. Families are contiguous because the series come in
canonical order (the format wants "all lines for a given metric" as "one single group"). Label
values are escaped as in OpenMetrics (`\\\\`, `\\"`, `\\n`); values are written as samples.py says.

No importer of this project reads the format: it is written for a database to ingest, so it is not
among FORMATS (the formats whose files `import_paths` reads back) but among INGEST_FORMATS.

Refused, where the format has no way to write the data: a timestamp with sub-millisecond digits (the
format counts milliseconds; floor or round the data first if that is what you want), metric names
outside `[a-zA-Z_:][a-zA-Z0-9_:]*`, label names outside `[a-zA-Z_][a-zA-Z0-9_]*` or beginning with
"__" (reserved for Prometheus' own labels, `__name__` among them), empty label values (an empty
label is no label), and NaN payloads, Prometheus' stale marker among them.
"""
import re

import numpy as np

from lib.data.dataset import NS_PER_MS
from lib.data.exporters.openmetrics import escape_label_value
from lib.data.exporters.samples import exposition_text, unrepresentable
from lib.data.importers import openmetrics as grammar

FORMAT = "prometheus-text"
METRIC_NAME = re.compile(grammar.METRIC_NAME)
LABEL_NAME = re.compile(grammar.LABEL_NAME)
RESERVED_PREFIX = "__"


def prometheus_text(series):
    """The text of every series (in canonical order), a chunk at a time."""
    return exposition_text(series, FORMAT, "untyped", _selector, _check_whole_milliseconds,
                           lambda nanoseconds: nanoseconds // NS_PER_MS)


def _selector(series):
    """`name{label="value",...}`, or `name` alone; refuses names and values the format cannot take."""
    if not METRIC_NAME.fullmatch(series.name):
        raise unrepresentable(FORMAT, series, f"metric name {series.name!r} is not a Prometheus name "
                                              f"({METRIC_NAME.pattern})")
    labels = []
    for name, value in sorted(series.labels.items()):
        if not LABEL_NAME.fullmatch(name):
            raise unrepresentable(FORMAT, series, f"label name {name!r} is not a Prometheus name "
                                                  f"({LABEL_NAME.pattern})")
        if name.startswith(RESERVED_PREFIX):
            raise unrepresentable(FORMAT, series, f"label name {name!r} begins with '__', which Prometheus "
                                                  f"reserves")
        if value == "":
            raise unrepresentable(FORMAT, series, f"label {name!r} is empty, which reads back as no label")
        labels.append(f'{name}="{escape_label_value(value)}"')
    return f"{series.name}{{{','.join(labels)}}}" if labels else series.name


def _check_whole_milliseconds(series):
    finer = np.flatnonzero(series.timestamps % NS_PER_MS)
    if finer.size:
        index = int(finer[0])
        raise unrepresentable(FORMAT, series, f"timestamp {int(series.timestamps[index])} ns is not a whole "
                                              f"millisecond, the format's unit", index)
