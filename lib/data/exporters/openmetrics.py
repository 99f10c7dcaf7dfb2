"""OpenMetrics 1.0 text out: what a Prometheus /metrics endpoint serves, with a timestamp on every
sample, ending in `# EOF`:

    # TYPE http_requests_total unknown
    http_requests_total{code="200",path="/a \\"b\\""} 1027.0 1700000000.5
    http_requests_total{code="200",path="/a \\"b\\""} 1031.0 1700000015.5
    # TYPE up unknown
    up NaN 1700000000
    # EOF

Each metric name is a MetricFamily of type "unknown": the data does not say what a series counts,
and an unknown family's samples carry its name with no suffix, so `http_requests_total` is written
and read back as it is. Families are contiguous because the series come in canonical order (the
standard forbids interleaving them; a family that comes back is refused as out of order). Label
values are escaped as the standard says (`\\\\`, `\\"`, `\\n`); values and timestamps are written
as lib/data/exporters/samples.py says (seconds with up to 9 decimals, "NaN", "+Inf", "-Inf").

Refused, where OpenMetrics 1.0 has no way, or no permission, to write the data: metric names
outside `[a-zA-Z_:][a-zA-Z0-9_:]*` and label names outside `[a-zA-Z_][a-zA-Z0-9_]*`, names that
begin with "_" (reserved by the standard, `__name__` included), empty label values ("treated as if
the label was not present"), timestamps that do not increase within a series (the standard
requires "monotonically increasing timestamps", so neither duplicates nor steps back), and NaN
payloads, Prometheus' stale marker among them.
"""
import re

import numpy as np

from lib.data.exporters.samples import exposition_text, seconds_text, unrepresentable
from lib.data.importers import openmetrics as reader

FORMAT = "openmetrics"
METRIC_NAME = re.compile(reader.METRIC_NAME)
LABEL_NAME = re.compile(reader.LABEL_NAME)
RESERVED_PREFIX = "_"


def openmetrics_text(series):
    """The OpenMetrics text of every series (in canonical order), a chunk at a time."""
    yield from exposition_text(series, FORMAT, "unknown", _selector, _check_increasing, seconds_text)
    yield reader.EOF_LINE + "\n"


def escape_label_value(text):
    """A label value as OpenMetrics writes it between quotes: backslash, quote, line feed escaped."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _selector(series):
    """`name{label="value",...}`, or `name` alone; refuses names and values OpenMetrics cannot take."""
    if not METRIC_NAME.fullmatch(series.name) or series.name.startswith(RESERVED_PREFIX):
        problem = _name_problem(series.name, METRIC_NAME)
        raise unrepresentable(FORMAT, series, f"metric name {series.name!r} {problem}")
    labels = []
    for name, value in sorted(series.labels.items()):
        if not LABEL_NAME.fullmatch(name) or name.startswith(RESERVED_PREFIX):
            raise unrepresentable(FORMAT, series, f"label name {name!r} {_name_problem(name, LABEL_NAME)}")
        if value == "":
            raise unrepresentable(FORMAT, series, f"label {name!r} is empty, which reads back as no label")
        labels.append(f'{name}="{escape_label_value(value)}"')
    return f"{series.name}{{{','.join(labels)}}}" if labels else series.name


def _name_problem(name, pattern):
    if pattern.fullmatch(name):
        return "begins with '_', which OpenMetrics reserves"
    return f"is not an OpenMetrics name ({pattern.pattern})"


def _check_increasing(series):
    not_after = np.flatnonzero(series.timestamps[1:] <= series.timestamps[:-1])
    if not_after.size:
        index = int(not_after[0]) + 1
        raise unrepresentable(FORMAT, series, "timestamp not after the previous one; OpenMetrics needs "
                                              "increasing timestamps within a series", index)
