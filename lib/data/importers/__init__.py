"""Import real metrics from files into the project's data model.

The synthetic generator is convenient, but the point of the project is to see how real telemetry
compresses. This package turns the files people can actually export (CSV, InfluxDB line protocol,
OpenMetrics text, a Prometheus `query_range` response) into the same list of `Series` every phase
reads; lib/data/exporters/ writes them back out.

    result = import_paths(["exports/"], fmt=None)
    result.series     # list of Series, canonical order
    result.warnings   # list of str, e.g. duplicate or out-of-order timestamps per series
    result.files      # the files that were read, in reading order
    result.formats    # file -> the format it was read as

    with StreamingWriter("out.bin") as writer:      # lib/storage/streaming_writer.py
        sink = WriterSink(writer)
        result = read_paths(["exports/"], sink)     # the same, streamed: result.series stays empty

The formats (`FORMATS`), each with its rules in the docstring of its module:

- "csv" and "csv-long" (csv_files.py): `timestamp,value`, one series per file named after it; or
  `timestamp,metric,value` with one column per label.
- "influx" (line_protocol.py): InfluxDB line protocol, a series per measurement and numeric field
  (a field named `value` is the measurement's own series).
- "openmetrics" (openmetrics.py): OpenMetrics 1.0 text with timestamps, a series per sample name
  and label set.
- "prometheus-json" (prometheus_json.py): the body of `/api/v1/query_range` (or an instant query).

How a format is chosen for each file, and which files a folder imports, is in detection.py: by
extension first, then by the first non-blank line; `fmt` overrides detection for every file.
Timestamps (epoch numbers whose unit is told by magnitude, ISO 8601; exact, never float) are in
timestamps.py, values in fields.py, reading files a chunk at a time in files.py, and how points
become series, duplicates and disorder included, in points.py.

Names in the data (long CSV metrics, measurements, fields, label names) are kept verbatim: they
are the user's names, and rewriting them could merge two series. Only names made up from a file
name are sanitised.

An import in which no file had any point is an error, as is a file with nothing in it at all.
Every problem with the input raises `FormatError` with one line naming the file and, where there
is one, the line: "data/cpu.csv:17: unparseable timestamp 'yesterday'".

Memory follows the number of points (16 bytes each), not the size of the text: CSV, line protocol
and OpenMetrics are never held as a whole text, and JSON samples become columns as they are parsed.
`read_paths` into a `WriterSink` (points.py) bounds it further: CSV, line protocol and OpenMetrics
hand their points on between chunks of text, so memory holds a few chunks, not the import. A
Prometheus JSON document is one piece of text and is read whole even then.
"""
import os
from dataclasses import dataclass, field

from lib.data.dataset import canonical_order
from lib.data.importers.csv_files import metric_name_from_file, read_csv_long, read_csv_simple
from lib.data.importers.detection import FORMATS, detect_format, expand_paths, format_from
from lib.data.importers.fields import parse_value
from lib.data.importers.files import first_content_line
from lib.data.importers.line_protocol import read_line_protocol
from lib.data.importers.openmetrics import read_openmetrics
from lib.data.importers.points import Collector, WriterSink, order_warnings
from lib.data.importers.prometheus_json import read_prometheus_json
from lib.data.importers.timestamps import parse_timestamp
from lib.errors import FormatError

__all__ = [
    "FORMATS", "ImportResult", "WriterSink", "detect_format", "import_paths", "metric_name_from_file",
    "parse_timestamp", "parse_value", "read_paths",
]
# The formats a reader takes in one piece (a JSON document), however the import is streamed.
WHOLE_FORMATS = ("prometheus-json",)

_READERS = {
    "csv": read_csv_simple,
    "csv-long": read_csv_long,
    "influx": read_line_protocol,
    "openmetrics": read_openmetrics,
    "prometheus-json": read_prometheus_json,
}


@dataclass
class ImportResult:
    series: list
    warnings: list = field(default_factory=list)
    files: list = field(default_factory=list)
    formats: dict = field(default_factory=dict)  # file -> the format it was read as


def import_paths(paths, fmt=None):
    """Read files and folders into an `ImportResult` (see the package docstring for the rules)."""
    collector = Collector()
    result = read_paths(paths, collector, fmt)
    try:
        series = collector.to_series()
    except ValueError as exc:
        raise FormatError(f"{_list_files(result.files)}: {exc}") from None
    if not series:
        raise FormatError(f"{_list_files(result.files)}: no data points")
    result.warnings.extend(order_warnings(series))
    result.series = canonical_order(series)
    return result


def read_paths(paths, sink, fmt=None):
    """Read files and folders into `sink` (points.py); an `ImportResult` of the files, formats and
    warnings, without series."""
    if fmt is not None and fmt not in FORMATS:
        raise FormatError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    result = ImportResult(series=[])
    seen = set()
    for path in expand_paths(paths, fmt):
        resolved = path.resolve()
        if resolved in seen:
            result.warnings.append(f"{path}: given more than once, read once")
            continue
        seen.add(resolved)
        file_format = fmt or format_from(path, first_content_line(path))
        try:
            _READERS[file_format](path, sink, result.warnings)
            sink.chunk_done()
        except FormatError:
            raise
        except (ValueError, ArithmeticError, RecursionError) as exc:
            # The readers name file and line for every problem they expect; this is the safety net
            # for the ones they do not (absurdly long numbers, pathologically nested JSON).
            raise FormatError(f"{path}: unreadable ({type(exc).__name__}: {exc})") from None
        result.files.append(str(path))
        result.formats[str(path)] = file_format
    sink.finish()
    return result


def _list_files(files, limit=3):
    shown = ", ".join(files[:limit])
    return shown + (f" and {len(files) - limit} more" if len(files) > limit else "")
