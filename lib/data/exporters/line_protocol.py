"""InfluxDB line protocol out: `measurement[,tag=value...] value=<float> <nanoseconds>` per point.

This is InfluxDB's own layout for Prometheus remote-write data: the metric name is the
measurement, the labels are tags, the sample is the float field `value`. The importer
(lib/data/importers/line_protocol.py) reads a field named `value` back as the series
`<measurement>` itself, so a series keeps its name both ways:

    http_requests,host=a,path=/a\\,b value=1027.0 1700000000500000000

Escaping, as InfluxDB 2 and the importer read it: a backslash, comma or space in the measurement
gets a backslash; in tag keys and values, an equals sign too. Values are floats written with
`repr` ("1027.0": without the "i" suffix line protocol reads a float); timestamps are integer
nanoseconds, the protocol's default precision.

Refused, because line protocol has no way to write them: NaN and infinities (it has no text for
either), a tag with an empty key or value, a line feed anywhere in a name or tag (a point is one
line), and a measurement that starts with "#" (a comment line) or with a tab, carriage return or
NUL (skipped as blank space at the start of a line; a space is escaped, so it is kept).
"""
import math

from lib.data.exporters.samples import first_non_finite, point_chunks, unrepresentable
from lib.data.importers.line_protocol import VALUE_FIELD

FORMAT = "influx"
_NOT_FIRST_IN_A_LINE = ("#", "\t", "\r", "\0")  # a comment, or blank space readers skip


def line_protocol_text(series):
    """The line protocol text of every series, a chunk at a time."""
    for s in series:
        prefix = f"{_series_key(s)} {VALUE_FIELD}="
        for start, timestamps, values in point_chunks(s):
            _check_finite(s, start, values)
            yield "".join(f"{prefix}{v!r} {t}\n" for t, v in zip(timestamps, values.tolist()))


def _series_key(series):
    """`measurement,tag=value,...` escaped, tags in sorted order; refuses what cannot be written."""
    if series.name.startswith(_NOT_FIRST_IN_A_LINE):
        raise unrepresentable(FORMAT, series, f"a measurement starting with {series.name[0]!r} cannot be "
                                              f"written (a comment or blank space at the start of a line)")
    parts = [_escape(series.name, ", ")]
    for key, value in sorted(series.labels.items()):
        if key == "" or value == "":
            empty = "key" if key == "" else "value"
            raise unrepresentable(FORMAT, series, f"tag {key!r} has an empty {empty}")
        parts.append(f"{_escape(key, ',= ')}={_escape(value, ',= ')}")
    key = ",".join(parts)
    if "\n" in key:
        raise unrepresentable(FORMAT, series, "a line feed in a name or tag cannot be written")
    return key


def _escape(text, special):
    text = text.replace("\\", "\\\\")
    for char in special:
        text = text.replace(char, "\\" + char)
    return text


def _check_finite(series, start, values):
    index = first_non_finite(values)
    if index is not None:
        what = "NaN" if math.isnan(values[index]) else "infinity"
        raise unrepresentable(FORMAT, series, f"line protocol has no {what}", start + index)
