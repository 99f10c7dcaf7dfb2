"""Export series to the text formats the importers read: the way back out.

    points = export_file(series, "openmetrics", "metrics.om")
    points = export_series(series, "influx", sys.stdout.buffer)

The promise is the importers' in reverse: `import_paths(path, fmt)` on an exported file gives back
the same series, bit for bit (timestamps as int64, values as their 64-bit patterns). Where a format
cannot carry something in the data (a NaN in line protocol, a NaN payload in any text, a label
OpenMetrics forbids), the export stops with `UnrepresentableError` naming the format, the series,
the point and what; it never writes something else instead.

The formats (`FORMATS`), each with what it carries and refuses in the docstring of its module:

- "csv-long" and "csv" (csv_files.py): every series with labels as columns; or one series'
  timestamps and values, without its name and labels.
- "influx" (line_protocol.py): InfluxDB line protocol, the metric as measurement, field `value`.
- "openmetrics" (openmetrics.py): OpenMetrics 1.0 text with a timestamp on every sample.
- "prometheus-json" (prometheus_json.py): the body of a `/api/v1/query_range` response.

`INGEST_FORMATS` are written for a database to ingest, and no importer reads them back (their
round trip is through the database, benchmarks/compare_tsdbs.py):

- "prometheus-text" (prometheus_text.py): Prometheus text format 0.0.4 with millisecond
  timestamps, as VictoriaMetrics' `/api/v1/import/prometheus` reads it.

How values and timestamps become text, exactly, is in samples.py.

Streaming: the series come from any iterable, complete and in canonical order (as
`canonical_order` sorts them; OpenMetrics needs it, the others keep whatever order they are given),
and are written one at a time, each in chunks of points, so memory holds one series and one chunk
of text. The exception is csv-long without `label_names`: its header must name every label column
before the first row, so the series are read into a list first to find them; a caller that knows
the names (a METRICS! file's index has them) passes their sorted union instead. A series without
points writes nothing: the importers make no series of nothing.
"""
from lib.data.exporters.csv_files import long_csv_text, simple_csv_text
from lib.data.exporters.line_protocol import line_protocol_text
from lib.data.exporters.openmetrics import openmetrics_text
from lib.data.exporters.prometheus_json import query_range_text
from lib.data.exporters.prometheus_text import prometheus_text
from lib.plumbing.atomic import atomic_write

__all__ = ["FORMATS", "INGEST_FORMATS", "export_file", "export_series"]

FORMATS = ("csv-long", "csv", "influx", "openmetrics", "prometheus-json")
INGEST_FORMATS = ("prometheus-text",)

_WRITERS = {
    "csv": simple_csv_text,
    "influx": line_protocol_text,
    "openmetrics": openmetrics_text,
    "prometheus-json": query_range_text,
    "prometheus-text": prometheus_text,
}


def export_series(series, fmt, stream, label_names=None):
    """Write `series` (an iterable of Series) as `fmt` to `stream` (a binary file object), series by
    series and chunk by chunk; returns the number of points written.

    `label_names` is used by csv-long only: the label columns of its header. When None, the
    iterable is read into a list first to find them (see the package docstring).
    Raises UnrepresentableError for anything the format cannot carry; what was written before the
    refusal stays in `stream` (export_file leaves no file behind).
    """
    known = FORMATS + INGEST_FORMATS
    if fmt not in known:
        raise ValueError(f"unknown export format {fmt!r}: choose one of {', '.join(known)}")
    points = 0

    def series_with_points():
        nonlocal points
        for s in series:
            if len(s):
                points += len(s)
                yield s

    if fmt == "csv-long":
        texts = long_csv_text(series_with_points(), label_names)
    else:
        texts = _WRITERS[fmt](series_with_points())
    for text in texts:
        stream.write(text.encode("utf-8"))
    return points


def export_file(series, fmt, path, label_names=None):
    """`export_series` into the file at `path`, written atomically: a refusal midway (or any other
    error) leaves no file behind, and an existing file untouched. Returns the number of points."""
    with atomic_write(path) as stream:
        return export_series(series, fmt, stream, label_names)
