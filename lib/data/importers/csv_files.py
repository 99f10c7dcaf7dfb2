"""CSV files, in two forms.

- "csv": header `timestamp,value` (either order; `time` is accepted for `timestamp`), one series
  per file. The metric name is the file name without its extension, sanitised to a Prometheus
  name (`[a-zA-Z_:][a-zA-Z0-9_:]*`: other characters become "_", a leading digit gets a "_"
  prefix), and the series gets one label, `source=<name of the folder holding the file>`.
- "csv-long": header with `timestamp`, `metric` (or `metric_name`) and `value`; every other
  column is a label, named as in the header. An empty cell means "no such label", as in
  Prometheus, so sparse label columns do not split a series.

Cells are not trimmed (a label is the user's text, see the package docstring on names), except
that header names, timestamps and values may carry spaces around them. A file with only a header
adds no series and a warning.
"""
import csv
import re
from pathlib import Path

from lib.data.importers.fields import BadField, parse_value
from lib.data.importers.files import text_lines
from lib.data.importers.points import UNNAMED_METRIC
from lib.data.importers.timestamps import parse_timestamp
from lib.errors import FormatError

TIMESTAMP_COLUMNS = ("timestamp", "time")
METRIC_COLUMNS = ("metric", "metric_name")
VALUE_COLUMN = "value"
SOURCE_LABEL = "source"


def read_csv_simple(path, collector, warnings):
    _read_csv(path, collector, warnings, long_form=False)


def read_csv_long(path, collector, warnings):
    _read_csv(path, collector, warnings, long_form=True)


def _read_csv(path, collector, warnings, long_form):
    reader = csv.reader(text_lines(path, collector.chunk_done), strict=True)
    try:
        header = _first_row(reader)
        columns = _CsvColumns(path, reader.line_num, header, long_form)
        if long_form:
            points = _read_long_rows(path, reader, columns, collector)
        else:
            points = _read_simple_rows(path, reader, columns, collector)
    except csv.Error as exc:
        raise FormatError(f"{path}:{reader.line_num}: malformed CSV ({exc})") from None
    if points == 0:
        warnings.append(f"{path}: header only, no data rows")


def _first_row(reader):
    for row in reader:
        if row:
            return row
    return []


class _CsvColumns:
    """Which column holds what, from a CSV header; refuses headers the chosen form cannot read."""

    def __init__(self, path, line, header, long_form):
        self.count = len(header)
        names = [name.strip() for name in header]
        where = f"{path}:{line}"
        for index, name in enumerate(names):
            if not name:
                raise FormatError(f"{where}: column {index + 1} of the header has no name")
            if names.index(name) != index:
                raise FormatError(f"{where}: column {name!r} appears twice in the header")
        lowered = [name.lower() for name in names]
        self.timestamp = _one_column(where, lowered, TIMESTAMP_COLUMNS)
        self.value = _one_column(where, lowered, (VALUE_COLUMN,))
        metric_present = any(name in METRIC_COLUMNS for name in lowered)
        if long_form:
            self.metric = _one_column(where, lowered, METRIC_COLUMNS)
        elif metric_present:
            raise FormatError(f"{where}: a 'metric' column belongs to the long CSV form (csv-long)")
        roles = {self.timestamp, self.value} | ({self.metric} if long_form else set())
        self.labels = [(index, names[index]) for index in range(self.count) if index not in roles]
        if self.labels and not long_form:
            unexpected = self.labels[0][1]
            raise FormatError(
                f"{where}: unexpected column {unexpected!r}: a simple CSV has only timestamp and value; "
                f"add a 'metric' column for the long form"
            )


def _one_column(where, lowered, accepted):
    found = [index for index, name in enumerate(lowered) if name in accepted]
    if not found:
        raise FormatError(f"{where}: missing column {' or '.join(map(repr, accepted))}")
    if len(found) > 1:
        raise FormatError(f"{where}: more than one column for {' or '.join(map(repr, accepted))}")
    return found[0]


def _read_simple_rows(path, reader, columns, collector):
    folder = path.resolve().parent.name
    labels = {SOURCE_LABEL: folder} if folder else {}
    timestamps, values = collector.columns(metric_name_from_file(path), labels)
    start = len(timestamps)
    t, v = columns.timestamp, columns.value
    for row in _data_rows(path, reader, columns.count):
        try:
            timestamps.append(parse_timestamp(row[t]))
            values.append(parse_value(row[v]))
        except BadField as exc:
            raise FormatError(f"{path}:{reader.line_num}: {exc}") from None
    return len(timestamps) - start


def _read_long_rows(path, reader, columns, collector):
    series_columns = {}  # (metric, label cells...) -> arrays, so each row costs one dict lookup
    label_indexes = [index for index, _name in columns.labels]
    t, v, m = columns.timestamp, columns.value, columns.metric
    points = 0
    for row in _data_rows(path, reader, columns.count):
        key = (row[m], *[row[i] for i in label_indexes])
        target = series_columns.get(key)
        if target is None:
            target = series_columns[key] = _long_series(path, reader, row, columns, collector)
        try:
            target[0].append(parse_timestamp(row[t]))
            target[1].append(parse_value(row[v]))
        except BadField as exc:
            raise FormatError(f"{path}:{reader.line_num}: {exc}") from None
        points += 1
    return points


def _long_series(path, reader, row, columns, collector):
    name = row[columns.metric]
    if not name.strip():
        raise FormatError(f"{path}:{reader.line_num}: empty metric name")
    labels = {label: row[index] for index, label in columns.labels if row[index] != ""}
    return collector.columns(name, labels)


def _data_rows(path, reader, width):
    """The remaining rows, skipping blank lines and refusing rows of the wrong width."""
    for row in reader:
        if len(row) == width:
            yield row
        elif row:
            raise FormatError(f"{path}:{reader.line_num}: expected {width} fields, found {len(row)}")


def metric_name_from_file(path):
    """A Prometheus-style metric name made from a file name: "cpu-usage.csv" -> "cpu_usage"."""
    name = re.sub(r"[^a-zA-Z0-9_:]", "_", Path(path).stem)
    if not name:
        return UNNAMED_METRIC
    return "_" + name if name[0].isdigit() else name
