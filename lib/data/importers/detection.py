"""Which files an import reads, and the format each is read as.

Formats (`FORMATS`) and how one is chosen when `fmt` is None:

- A folder imports every `*.csv` file below it, recursively, sorted by path; names starting with
  "." (hidden files and folders) are skipped. A folder with none is an error.
- A file ending in `.csv` is CSV: "csv-long" if its header has a `metric` (or `metric_name`)
  column, otherwise "csv". `.json` is "prometheus-json". `.lp`, `.line` and `.influx` are "influx".
  `.om` and `.prom` are "openmetrics" (`.prom` is what node_exporter's textfile collector reads).
- Any other file is recognised by its first non-blank line: `{` starts Prometheus JSON, a header
  naming `timestamp` and `value` columns is CSV (long or simple as above), `# TYPE `, `# HELP `,
  `# UNIT ` or `# EOF` (OpenMetrics' only `#` lines) start OpenMetrics, and any other `#` line (a
  comment) or the shape `measurement[,tags] field=value` is line protocol. Anything else asks for
  an explicit format. A Prometheus 0.0.4 text file also starts with `# HELP` or `# TYPE`: it is
  taken for OpenMetrics, whose reader then says that 0.0.4 is not read.
- `fmt` overrides detection for every file ("csv" then means the simple form only).
"""
import csv
import os
import re
from pathlib import Path

from lib.data.importers.csv_files import METRIC_COLUMNS, TIMESTAMP_COLUMNS, VALUE_COLUMN
from lib.data.importers.files import first_content_line
from lib.errors import FormatError
from lib.plumbing.regular_files import is_symlink_loop

FORMATS = ("csv", "csv-long", "influx", "openmetrics", "prometheus-json")

CSV_SUFFIXES = (".csv",)
JSON_SUFFIXES = (".json",)
INFLUX_SUFFIXES = (".lp", ".line", ".influx")
OPENMETRICS_SUFFIXES = (".om", ".prom")

_OPENMETRICS_START = re.compile(r"# (?:TYPE|HELP|UNIT) |# EOF$")
_LINE_PROTOCOL_SHAPE = re.compile(r"[^\s,=]+(?:,\S+)?\s+[^\s=]+=\S")


def detect_format(path):
    """The format `import_paths` would read this file as, by extension first, then by content.

    Refuses (FormatError) a file that is empty, not UTF-8 where it starts, or not a regular file.
    """
    return format_from(Path(path), first_content_line(path))


def format_from(path, first):
    """The format of the file at `path` (a Path) whose first non-blank line is `first`."""
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return _csv_form(first)
    if suffix in JSON_SUFFIXES:
        return "prometheus-json"
    if suffix in INFLUX_SUFFIXES:
        return "influx"
    if suffix in OPENMETRICS_SUFFIXES:
        return "openmetrics"
    if first.startswith("{"):
        return "prometheus-json"
    if _looks_like_csv_header(first):
        return _csv_form(first)
    if _OPENMETRICS_START.match(first):
        return "openmetrics"
    if first.startswith("#") or _LINE_PROTOCOL_SHAPE.match(first):
        return "influx"
    raise FormatError(f"{path}: cannot tell the format from its content; give one of {', '.join(FORMATS)}")


def expand_paths(paths, fmt):
    """The files to read, in reading order: each file as given, each folder's CSV files."""
    files = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            if fmt not in (None, "csv", "csv-long"):
                raise FormatError(f"{path}: a folder imports its CSV files, not {fmt}; name the files")
            found = _csv_files_below(path)
            if not found:
                raise FormatError(f"{path}: folder contains no CSV files")
            files.extend(found)
        elif path.exists():
            files.append(path)  # reading it refuses anything but a regular file (files._open_input)
        else:
            _refuse_symlink_loop(path)  # exists() is False for a loop too
            raise FormatError(f"{path}: no such file")
    for path in files:
        _refuse_symlink_loop(path)  # before anything resolves it (Path.resolve raises RuntimeError)
    if not files:
        raise FormatError("no input files given")
    return files


def _refuse_symlink_loop(path):
    if is_symlink_loop(path):
        raise FormatError(f"{path}: a symbolic link loop (the link leads back to itself), not a file")


def _csv_files_below(folder):
    found = []
    for directory, subdirectories, filenames in os.walk(folder):
        subdirectories[:] = [d for d in subdirectories if not d.startswith(".")]
        found.extend(
            Path(directory, name)
            for name in filenames
            if not name.startswith(".") and Path(name).suffix.lower() in CSV_SUFFIXES
        )
    # Sorting by path components, not by walk order, keeps the result independent of the OS.
    return sorted(found, key=lambda p: p.relative_to(folder).parts)


def _csv_form(first_line):
    """The long form if the header names a metric column, otherwise the simple one."""
    return "csv-long" if _header_names(first_line) & set(METRIC_COLUMNS) else "csv"


def _looks_like_csv_header(line):
    names = _header_names(line)
    return bool(names & set(TIMESTAMP_COLUMNS)) and VALUE_COLUMN in names


def _header_names(line):
    try:
        return {name.strip().lower() for name in next(csv.reader([line]), [])}
    except csv.Error:
        return set()  # not a CSV header; the reader will say what is wrong if it is read as one
