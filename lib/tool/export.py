"""`squeeze.py export`: a METRICS! file back out as text, the inverse of `compress`.

The series are read one at a time (each its own blocks) and handed to the exporters
(lib/data/exporters), which write them series by series in chunks of points: memory holds one
series and one chunk of text. csv-long's header must name every label column before its first
row; the index has every series' labels, so the header is known without reading any block. A
simple CSV holds one series without its name, chosen with --metric and --label.

What a format cannot carry (a NaN in line protocol, a NaN payload such as Prometheus' stale marker
in any text, a label name OpenMetrics forbids) stops the export with the exporter's one-line
message; written to --out, the file then does not appear at all (lib/plumbing/atomic.py), so a
refused export is never written as something else. Importing an exported file with the same
format gives the series back bit for bit.
"""
import sys

from lib.data.exporters import export_file, export_series
from lib.errors import SqueezedSignalsError
from lib.storage.metrics_file import MetricsFile
from lib.tool.query import matching_series, select_series

ONE_SERIES_FORMATS = ("csv",)


def export(path, fmt, out=None, metric=None, selector=()):
    """Write the file's series (or the one series --metric and --label pick) as `fmt` to `out`
    (default: stdout); the number of points written."""
    with MetricsFile(path) as f:
        if fmt in ONE_SERIES_FORMATS and metric is not None:
            entries = [select_series(f, metric, selector)]
        elif metric is not None:
            entries = matching_series(f, metric, selector)
        elif fmt in ONE_SERIES_FORMATS and len(f.series) != 1:
            raise SqueezedSignalsError(f"{fmt} holds one series without its name, and {f.path} has "
                                       f"{len(f.series):,}: choose one with --metric (and --label)")
        else:
            entries = f.series
        series = (f.read_series(e.name, e.labels) for e in entries)
        label_names = sorted({key for e in entries for key in e.labels})
        if out is None:
            sys.stdout.flush()  # the text goes to the byte stream beneath
            points = export_series(series, fmt, sys.stdout.buffer, label_names)
            sys.stdout.buffer.flush()
            return points
        return export_file(series, fmt, out, label_names)
