"""CSV out, in the two forms lib/data/importers/csv_files.py reads.

- "csv-long": every series, one row per point: `timestamp,metric,value,<label columns...>`. The
  label columns are the sorted union of the label names, all in the header before the first row;
  a series without one of them leaves its cell empty, which the importer reads as "no such label".

      timestamp,metric,value,host,path
      1700000000.5,http_requests,1027.0,a,"/a,b"
      1700000015,up,NaN,b,

- "csv": one series, `timestamp,value`. Its name and labels are not in the file (the importer
  names a simple CSV's series after the file and labels it with its folder); the caller chooses
  the series, and a second one is refused.

Timestamps and values are written as lib/data/exporters/samples.py says, and cells are quoted by
the csv module where they must be (commas, quotes, line breaks), as the importer's csv module reads
them. Refused, because the importer would read something else back: a label whose value is ""
(an empty cell is no label), a blank metric name, and label names that are blank, have spaces
around them (header names are trimmed) or name a column the importer looks for (`timestamp`,
`time`, `metric`, `metric_name`, `value`, in any case).
"""
import csv
import io

from lib.data.exporters.samples import point_chunks, seconds_text, shown_name, unrepresentable, value_texts
from lib.data.importers.csv_files import METRIC_COLUMNS, TIMESTAMP_COLUMNS, VALUE_COLUMN
from lib.errors import UnrepresentableError

FORMAT_LONG, FORMAT_SIMPLE = "csv-long", "csv"
RESERVED_COLUMNS = frozenset((*TIMESTAMP_COLUMNS, *METRIC_COLUMNS, VALUE_COLUMN))
LONG_HEADER = (TIMESTAMP_COLUMNS[0], METRIC_COLUMNS[0], VALUE_COLUMN)
SIMPLE_HEADER = (TIMESTAMP_COLUMNS[0], VALUE_COLUMN)


def long_csv_text(series, label_names=None):
    """The text of a long CSV, a chunk at a time. Without `label_names` the series are read into a
    list first, to find every label name before the header is written."""
    if label_names is None:
        series = list(series)
        label_names = sorted({name for s in series for name in s.labels})
    label_names = list(label_names)
    _check_label_names(label_names, series if isinstance(series, list) else ())
    yield csv_row([*LONG_HEADER, *label_names]) + "\n"
    columns = set(label_names)
    for s in series:
        _check_long_series(s, columns)
        metric_cell = csv_row([s.name])
        label_cells = "," + csv_row([s.labels.get(name, "") for name in label_names]) if label_names else ""
        for start, timestamps, values in point_chunks(s):
            texts = value_texts(FORMAT_LONG, s, start, values)
            yield "".join(
                f"{seconds_text(t)},{metric_cell},{v}{label_cells}\n" for t, v in zip(timestamps, texts)
            )


def simple_csv_text(series):
    """The text of a simple CSV of the one series in `series` (a second one is refused)."""
    yield csv_row(SIMPLE_HEADER) + "\n"
    first = None
    for s in series:
        if first is not None:
            raise UnrepresentableError(
                f"{FORMAT_SIMPLE}: holds one series, and {shown_name(s)} is a second after "
                f"{shown_name(first)}; choose one series, or use {FORMAT_LONG}"
            )
        first = s
        for start, timestamps, values in point_chunks(s):
            texts = value_texts(FORMAT_SIMPLE, s, start, values)
            yield "".join(f"{seconds_text(t)},{v}\n" for t, v in zip(timestamps, texts))


def csv_row(cells):
    """Cells joined as the csv module writes them (quoted where needed), without a line end."""
    buffer = io.StringIO()
    # The default line terminator "\r\n" makes the writer quote any cell holding "\r" or "\n".
    csv.writer(buffer).writerow(cells)
    return buffer.getvalue()[:-2]


def _check_label_names(label_names, series_list):
    if len(set(label_names)) != len(label_names):
        raise ValueError(f"label_names lists a name twice: {label_names}")
    for name in label_names:
        problem = _label_name_problem(name)
        if problem:
            carrier = next((s for s in series_list if name in s.labels), None)
            where = f"{shown_name(carrier)}: " if carrier is not None else ""
            raise UnrepresentableError(f"{FORMAT_LONG}: {where}label name {name!r} {problem}")


def _label_name_problem(name):
    if not name.strip():
        return "is blank, and a header column needs a name"
    if name != name.strip():
        return "has spaces around it, which the importer trims from header names"
    if name.lower() in RESERVED_COLUMNS:
        return f"would be read as the {name.lower()!r} column"
    return None


def _check_long_series(series, columns):
    if not series.name.strip():
        raise unrepresentable(FORMAT_LONG, series, "a blank metric name is refused by the importer")
    for name, value in series.labels.items():
        if name not in columns:
            raise ValueError(f"{shown_name(series)} has label {name!r}, which label_names does not list")
        if value == "":
            raise unrepresentable(FORMAT_LONG, series, f"label {name!r} is empty, which reads as no label")
