"""Import real metrics from files into the project's data model.

The synthetic generator is convenient, but the point of the project is to see how real telemetry
compresses. This module turns the files people can actually export (CSV, InfluxDB line protocol,
a Prometheus `query_range` response) into the same list of `Series` every phase reads.

    result = import_paths(["exports/"], fmt=None)
    result.series     # list of Series, canonical order
    result.warnings   # list of str, e.g. duplicate or out-of-order timestamps per series
    result.files      # the files that were read, in reading order
    result.formats    # file -> the format it was read as

Formats (`FORMATS`) and how one is chosen when `fmt` is None:

- A folder imports every `*.csv` file below it, recursively, sorted by path; names starting with
  "." (hidden files and folders) are skipped. A folder with none is an error.
- A file ending in `.csv` is CSV: "csv-long" if its header has a `metric` (or `metric_name`)
  column, otherwise "csv". `.json` is "prometheus-json". `.lp`, `.line` and `.influx` are "influx".
- Any other file is recognised by its first non-blank line: `{` starts Prometheus JSON, a header
  naming `timestamp` and `value` columns is CSV (long or simple as above), `#` or the shape
  `measurement[,tags] field=value` is line protocol. Anything else asks for an explicit format.
- `fmt` overrides detection for every file ("csv" then means the simple form only).

What each format becomes:

- "csv": header `timestamp,value` (either order; `time` is accepted for `timestamp`), one series
  per file. The metric name is the file name without its extension, sanitised to a Prometheus
  name (`[a-zA-Z_:][a-zA-Z0-9_:]*`: other characters become "_", a leading digit gets a "_"
  prefix), and the series gets one label, `source=<name of the folder holding the file>`.
- "csv-long": header with `timestamp`, `metric` (or `metric_name`) and `value`; every other
  column is a label, named as in the header. An empty cell means "no such label", as in
  Prometheus, so sparse label columns do not split a series.
- "influx": each numeric field of a line becomes a point of the series `<measurement>_<field>`
  with the tags as labels. Integers (`12i`), unsigned integers (`12u`) and floats are values;
  booleans become 1.0 and 0.0 (like Prometheus' `up`, a 0/1 gauge loses nothing); string fields
  are skipped and counted in a warning. Comments (`#`) and blank lines are ignored. Timestamps are
  nanoseconds, the protocol's default precision; a line without one is an error, because the
  server would have stamped it with its arrival time, which a file cannot tell us.
- "prometheus-json": the body of `/api/v1/query_range` (a "matrix"; an instant "vector" works
  too). `__name__` is the metric name; a result without one is named "unnamed". Timestamps are
  the API's unix seconds, as JSON numbers with a fraction. A failed query ("status": "error") is
  reported with Prometheus' own message. After parsing there are no lines any more, so errors
  name the JSON path (`data.result[3].values[17]`) instead of a line number.

Names in the data (long CSV metrics, measurements, fields, label names) are kept verbatim: they
are the user's names, and rewriting them could merge two series. Only names made up from a file
name are sanitised. For the same reason CSV cells are not trimmed, except that header names,
timestamps and values may carry spaces around them.

Timestamps in CSV may be epoch numbers, integer or decimal, whose unit is told by magnitude:
|t| < 1e11 is seconds, < 1e14 milliseconds, < 1e17 microseconds, anything larger nanoseconds.
The bands cannot be confused for real dates: seconds reach 1e11 only in the year 5138, while
milliseconds pass 1e11 in March 1973 (earlier ones would be misread as seconds). Whatever the
unit, the result must fit int64 nanoseconds, the years 1677 to 2262. Conversion is exact integer
and Decimal arithmetic, never float: "1700000000.123" seconds is 1700000000123000000 ns. Digits
finer than a nanosecond are rounded half to even. ISO 8601 (`2023-10-12T14:30:00Z`,
`2023-10-12T14:30:00.123456789+02:00`, a date alone) and `2023-10-12 14:30:00` are also
accepted; without an offset the time is UTC.

Values are parsed with `float()`, which rounds correctly, so "0.1" becomes exactly the float64
that `0.1` is in Python. `NaN`, `+Inf`, `-Inf` and `Inf` are accepted in any case, as Prometheus
writes them. Only ASCII is a number: `float()` would read the Arabic-Indic digit "١" as 1.0.
An empty value is an error: a point without a value is not a point. Line protocol integers must
fit their 64-bit type (`i` signed, `u` unsigned); ISO offsets run from 00:00 to 23:59.

Points are kept as given. Duplicate and out-of-order timestamps stay in file order (every codec
in the project is lossless for them) and each affected series gets one warning with the counts.
A series met in several files (or several times in one file) is one series, its points
concatenated in reading order. A CSV file with only a header adds no series and a warning;
an import in which no file had any point is an error, as is a file with nothing in it at all.

Every problem with the input raises `FormatError` with one line naming the file and, where there
is one, the line: "data/cpu.csv:17: unparseable timestamp 'yesterday'".

Memory: points accumulate in `array.array` columns (8 bytes a point each) and become numpy arrays
without a copy, so a million-point import costs about 16 MB. CSV and line protocol are read a
chunk at a time and never held as a whole text. JSON is parsed in one piece, but each result's
samples become columns as soon as the parser has read them, so memory holds the text, the columns
and one series as Python objects (query_range returns at most 11,000 points per series).
"""
import codecs
import contextlib
import csv
import json
import os
import re
from array import array
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_EVEN, Context, Decimal
from pathlib import Path

import numpy as np

from lib.data.dataset import Series, canonical_order, series_key
from lib.errors import FormatError
from lib.plumbing.regular_files import open_regular_file

FORMATS = ("csv", "csv-long", "influx", "prometheus-json")

CSV_SUFFIXES = (".csv",)
JSON_SUFFIXES = (".json",)
INFLUX_SUFFIXES = (".lp", ".line", ".influx")

TIMESTAMP_COLUMNS = ("timestamp", "time")
METRIC_COLUMNS = ("metric", "metric_name")
VALUE_COLUMN = "value"
SOURCE_LABEL = "source"
UNNAMED_METRIC = "unnamed"

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
_UTF8_BOM = b"\xef\xbb\xbf"
_CHUNK_BYTES = 1 << 18  # a chunk and its lines as str cost a few times this


@dataclass
class ImportResult:
    series: list
    warnings: list = field(default_factory=list)
    files: list = field(default_factory=list)
    formats: dict = field(default_factory=dict)  # file -> the format it was read as


class _BadField(ValueError):
    """A single field could not be parsed; the reader adds the file and line to the message."""


def import_paths(paths, fmt=None):
    """Read files and folders into an `ImportResult` (see the module docstring for the rules)."""
    if fmt is not None and fmt not in FORMATS:
        raise FormatError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    collector = _Collector()
    result = ImportResult(series=[])
    seen = set()
    for path in _expand_paths(paths, fmt):
        resolved = path.resolve()
        if resolved in seen:
            result.warnings.append(f"{path}: given more than once, read once")
            continue
        seen.add(resolved)
        file_format = fmt or _format_from(path, _first_content_line(path))
        try:
            _READERS[file_format](path, collector, result.warnings)
        except FormatError:
            raise
        except (ValueError, ArithmeticError, RecursionError) as exc:
            # The readers name file and line for every problem they expect; this is the safety net
            # for the ones they do not (absurdly long numbers, pathologically nested JSON).
            raise FormatError(f"{path}: unreadable ({type(exc).__name__}: {exc})") from None
        result.files.append(str(path))
        result.formats[str(path)] = file_format
    try:
        series = collector.to_series()
    except ValueError as exc:
        raise FormatError(f"{_list_files(result.files)}: {exc}") from None
    if not series:
        raise FormatError(f"{_list_files(result.files)}: no data points")
    result.warnings.extend(_order_warnings(series))
    result.series = canonical_order(series)
    return result


def detect_format(path):
    """The format `import_paths` would read this file as, by extension first, then by content.

    Refuses (FormatError) a file that is empty, not UTF-8 where it starts, or not a regular file.
    """
    return _format_from(Path(path), _first_content_line(path))


def _format_from(path, first):
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return _csv_form(first)
    if suffix in JSON_SUFFIXES:
        return "prometheus-json"
    if suffix in INFLUX_SUFFIXES:
        return "influx"
    if first.startswith("{"):
        return "prometheus-json"
    if _looks_like_csv_header(first):
        return _csv_form(first)
    if first.startswith("#") or _LINE_PROTOCOL_SHAPE.match(first):
        return "influx"
    raise FormatError(f"{path}: cannot tell the format from its content; give one of {', '.join(FORMATS)}")


# Finding and reading files

def _expand_paths(paths, fmt):
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
            files.append(path)  # reading it refuses anything but a regular file (_open_input)
        else:
            raise FormatError(f"{path}: no such file")
    if not files:
        raise FormatError("no input files given")
    return files


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


def _open_input(path):
    """(file, size) for a regular file; anything else is a FormatError naming the path."""
    try:
        return open_regular_file(path)
    except FileNotFoundError:
        raise FormatError(f"{path}: no such file") from None
    except OSError as exc:
        raise FormatError(f"{path}: cannot read ({exc.strerror})") from None


def _read_text(path):
    """The whole file as text (for JSON, which is parsed in one piece), without a byte order mark."""
    f, size = _open_input(path)
    with f:
        data = f.read(size)
    if data.startswith(_UTF8_BOM):
        data = data[len(_UTF8_BOM):]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise FormatError(f"{path}:{line}: not UTF-8 text") from None


def _decoded_chunks(path):
    """The file's text, decoded one chunk at a time; a leading byte order mark is dropped, and
    invalid UTF-8 is refused naming its line."""
    f, remaining = _open_input(path)
    decoder = codecs.getincrementaldecoder("utf-8")()
    newlines = 0  # in the text decoded so far, to name the line of a decoding error
    with f:
        chunk = f.read(min(_CHUNK_BYTES, remaining))
        remaining -= len(chunk)
        if chunk.startswith(_UTF8_BOM):
            chunk = chunk[len(_UTF8_BOM):]
        while True:
            undecoded = decoder.getstate()[0]  # the start of a character split by the last chunk
            try:
                text = decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                line = newlines + (undecoded + chunk).count(b"\n", 0, exc.start) + 1
                raise FormatError(f"{path}:{line}: not UTF-8 text") from None
            newlines += text.count("\n")
            yield text
            if not chunk:
                return
            chunk = f.read(min(_CHUNK_BYTES, remaining)) if remaining > 0 else b""
            remaining -= len(chunk)


def _text_lines(path):
    """The file's lines, endings included, read a chunk at a time.

    Line-based formats never hold the whole text: memory stays at a chunk however big the file
    (a 200 MB CSV held as text would cost 200 MB, or 800 MB if one label is not Latin-1). Only
    "\n" ends a line, as in the formats; the csv module handles "\r\n" itself.
    """
    unfinished = []  # the text after the last "\n", in pieces (joined once its line ends)
    for text in _decoded_chunks(path):
        pieces = text.split("\n")
        if len(pieces) == 1:
            unfinished.append(text)
            continue
        unfinished.append(pieces[0])
        yield "".join(unfinished) + "\n"
        for piece in pieces[1:-1]:
            yield piece + "\n"
        unfinished = [pieces[-1]]
    if "".join(unfinished):
        yield "".join(unfinished)


def _first_content_line(path, limit=_CHUNK_BYTES):
    """The first line that is not blank (its first `limit` characters at most: enough to tell a
    format), stripped; refuses a file with none. A one-line JSON file is not read whole here."""
    head = ""
    with contextlib.closing(_decoded_chunks(path)) as chunks:
        for text in chunks:
            head = (head + text).lstrip()
            if "\n" in head or len(head) >= limit:
                break
    line = head.split("\n", 1)[0][:limit].strip()
    if not line:
        raise FormatError(f"{path}: empty file")
    return line


def _list_files(files, limit=3):
    shown = ", ".join(files[:limit])
    return shown + (f" and {len(files) - limit} more" if len(files) > limit else "")


# Collecting points

class _Collector:
    """Points per series identity, in compact typed arrays, in the order they were read."""

    def __init__(self):
        self._series = {}

    def columns(self, name, labels):
        """The (timestamps, values) arrays to append this series' points to."""
        key = series_key(name, labels)
        entry = self._series.get(key)
        if entry is None:
            entry = self._series[key] = (name, dict(labels), array("q"), array("d"))
        return entry[2], entry[3]

    def to_series(self):
        # np.frombuffer shares the arrays' memory instead of copying a million points.
        return [
            Series(name, labels, np.frombuffer(ts, dtype=np.int64), np.frombuffer(vs, dtype=np.float64))
            for name, labels, ts, vs in self._series.values()
            if len(ts)
        ]


def _order_warnings(series_list):
    warnings = []
    for s in series_list:
        # Comparisons, not np.diff: a difference of int64 timestamps can overflow.
        earlier, later = s.timestamps[:-1], s.timestamps[1:]
        out_of_order = int(np.count_nonzero(later < earlier))
        if out_of_order:
            duplicates = len(s) - len(np.unique(s.timestamps))
        else:  # in order, so equal timestamps are neighbours; no sorted copy needed
            duplicates = int(np.count_nonzero(later == earlier))
        if duplicates or out_of_order:
            warnings.append(
                f"{s.display_name()}: {duplicates} duplicate and {out_of_order} out-of-order "
                f"timestamps, kept as given"
            )
    return warnings


# Timestamps and values

# (magnitude limit, power of ten to nanoseconds): seconds, milliseconds, microseconds.
_EPOCH_UNITS = ((10**11, 9), (10**14, 6), (10**17, 3))
_DECIMAL_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_ISO_DATETIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?)?",
    re.IGNORECASE | re.ASCII,
)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_MAX_TIMESTAMP_DIGITS = 25  # int64 nanoseconds have 19; a longer integer cannot be a timestamp
# The longest sane form, ISO with nanoseconds and an offset, has 35; longer text is malformed.
_MAX_TIMESTAMP_CHARACTERS = 64
_MAX_OFFSET_HOURS, _MAX_OFFSET_MINUTES = 23, 59  # ISO 8601 offsets: hh 00-23, mm 00-59
# Enough digits that scaling any sane input by 10**9 and rounding to an integer is exact.
_EXACT = Context(prec=80)


def parse_timestamp(text):
    """Nanoseconds since the epoch from an epoch number (unit by magnitude) or an ISO 8601 date."""
    if len(text) > _MAX_TIMESTAMP_CHARACTERS:
        raise _BadField(f"unparseable timestamp {_show(text)}: {len(text):,} characters, too long for a timestamp")
    if text.isascii() and text.isdigit():
        if len(text.lstrip("0")) > _MAX_TIMESTAMP_DIGITS:
            raise _BadField(f"timestamp {_show(text)} is outside the years 1677-2262")
        nanoseconds = _epoch_to_ns(int(text))
    else:
        nanoseconds = _parse_timestamp_slowly(text.strip())
    if not _INT64_MIN <= nanoseconds <= _INT64_MAX:
        raise _BadField(f"timestamp {_show(text)} is outside the years 1677-2262")
    return nanoseconds


def _parse_timestamp_slowly(text):
    if _DECIMAL_NUMBER.fullmatch(text):
        try:
            number = Decimal(text)
        except ArithmeticError:  # an exponent beyond what Decimal represents, e.g. 1e-99999999999999999999
            raise _BadField(f"timestamp {_show(text)} is outside the years 1677-2262") from None
        if number.adjusted() < -30:
            number = Decimal(0)  # far below a nanosecond in any unit
        if number.adjusted() > 30:
            # Checked before any int() so "1e999999" cannot build a million-digit integer.
            raise _BadField(f"timestamp {_show(text)} is outside the years 1677-2262")
        if number == number.to_integral_value():
            return _epoch_to_ns(int(number))
        return _epoch_to_ns(number)
    match = _ISO_DATETIME.fullmatch(text)
    if match:
        return _iso_to_ns(match, text)
    raise _BadField(f"unparseable timestamp {_show(text)}")


def _epoch_to_ns(number):
    """Scale an epoch number (int or Decimal) to integer nanoseconds, choosing its unit by size."""
    magnitude = abs(number)
    power = next((p for limit, p in _EPOCH_UNITS if magnitude < limit), 0)
    if isinstance(number, int):
        return number * 10**power
    return _decimal_to_int(number.scaleb(power, _EXACT))


def _decimal_to_int(number):
    return int(number.to_integral_value(rounding=ROUND_HALF_EVEN, context=_EXACT))


def _iso_to_ns(match, text):
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    try:
        days = date(int(year), int(month), int(day)).toordinal() - _EPOCH_ORDINAL
    except ValueError:
        raise _BadField(f"no such date in timestamp {_show(text)}") from None
    hour, minute, second = int(hour or 0), int(minute or 0), int(second or 0)
    if hour > 23 or minute > 59 or second > 59:
        raise _BadField(f"no such time of day in timestamp {_show(text)}")
    seconds = days * 86400 + hour * 3600 + minute * 60 + second - _offset_seconds(offset)
    return seconds * 10**9 + _fraction_to_ns(fraction or "")


def _offset_seconds(offset):
    if offset is None or offset.upper() == "Z":
        return 0
    digits = offset[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours > _MAX_OFFSET_HOURS or minutes > _MAX_OFFSET_MINUTES:
        raise _BadField(f"no such UTC offset {offset!r} (hours 00-23, minutes 00-59)")
    seconds = hours * 3600 + minutes * 60
    return -seconds if offset[0] == "-" else seconds


def _fraction_to_ns(digits):
    """The digits after the decimal point of a second, as nanoseconds (rounded past the ninth)."""
    if len(digits) <= 9:
        return int(digits.ljust(9, "0"))
    return _decimal_to_int(Decimal("0." + digits).scaleb(9, _EXACT))


def parse_value(text):
    """A float64 from its text exactly as Python's float() reads it (NaN and Inf included)."""
    # float() also reads "1_000" as Python source would, and any Unicode digit or space ("\u0661"
    # is 1.0); exporters write ASCII numerals only, so anything else is refused, not guessed.
    if "_" in text or not text.isascii():
        raise _BadField(f"unparseable value {_show(text)}")
    try:
        return float(text)
    except ValueError:
        raise _BadField(f"unparseable value {_show(text)}") from None


def _show(text, limit=40):
    """Quote user text for a one-line error message, shortened if long."""
    return repr(text if len(text) <= limit else text[:limit] + "...")


# CSV

def _read_csv_simple(path, collector, warnings):
    _read_csv(path, collector, warnings, long_form=False)


def _read_csv_long(path, collector, warnings):
    _read_csv(path, collector, warnings, long_form=True)


def _read_csv(path, collector, warnings, long_form):
    reader = csv.reader(_text_lines(path), strict=True)
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
        except _BadField as exc:
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
        except _BadField as exc:
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


# InfluxDB line protocol

_LINE_PROTOCOL_SHAPE = re.compile(r"[^\s,=]+(?:,\S+)?\s+[^\s=]+=\S")
_INFLUX_INTEGER = re.compile(r"-?\d{1,20}", re.ASCII)  # int64 has at most 19 digits
_INFLUX_UNSIGNED = re.compile(r"\d{1,20}", re.ASCII)
_INFLUX_INTEGER_RANGES = {"i": (_INT64_MIN, _INT64_MAX), "u": (0, 2**64 - 1)}
_INFLUX_TRUE = frozenset(("t", "T", "true", "True", "TRUE"))
_INFLUX_FALSE = frozenset(("f", "F", "false", "False", "FALSE"))
_UNESCAPE_MEASUREMENT = re.compile(r"\\([, \\])")
_UNESCAPE_KEY = re.compile(r"\\([,= \\])")


def _read_influx(path, collector, warnings):
    series_columns = {}  # (raw series key, raw field key) -> arrays, parsed once per series
    strings_skipped = 0
    for line_number, line in enumerate(_text_lines(path), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            series_key, fields, timestamp_text = _split_line(line)
            timestamp = _influx_timestamp(timestamp_text)
            for field_key, raw_value in fields:
                value = _influx_field_value(raw_value)
                if value is None:
                    strings_skipped += 1
                    continue
                target = series_columns.get((series_key, field_key))
                if target is None:
                    measurement, tags = _parse_series_key(series_key)
                    name = measurement + "_" + _UNESCAPE_KEY.sub(r"\1", field_key)
                    target = series_columns[series_key, field_key] = collector.columns(name, tags)
                target[0].append(timestamp)
                target[1].append(value)
        except _BadField as exc:
            raise FormatError(f"{path}:{line_number}: {exc}") from None
    if strings_skipped:
        warnings.append(f"{path}: skipped {strings_skipped} string field values (only numbers are series)")


def _split_line(line):
    """Split a line into (series key, [(field key, raw value)], timestamp text or None)."""
    if "\\" not in line and '"' not in line:
        # The common case needs no escape handling, and plain str.split is much faster.
        series_key, *rest = line.split()
        fields = [_field_pair(part, part.partition("=")) for part in rest[0].split(",")] if rest else []
    else:
        series_key, _, remainder = _partition_unescaped(line, " ", quotes=False)
        rest = [part for part in _split_unescaped(remainder, " ", quotes=True) if part]
        fields = [
            _field_pair(part, _partition_unescaped(part, "=", quotes=False))
            for part in _split_unescaped(rest[0], ",", quotes=True)
        ] if rest else []
    if not rest:
        raise _BadField("no fields: expected 'measurement[,tag=value...] field=value[,...] timestamp'")
    if len(rest) > 2:
        raise _BadField("unexpected text after the timestamp (an unescaped space?)")
    return series_key, fields, rest[1] if len(rest) == 2 else None


def _field_pair(part, partition):
    key, found, value = partition
    if not found or not key or not value:
        raise _BadField(f"malformed field {_show(part)}: expected key=value")
    return key, value


def _split_unescaped(text, separator, quotes):
    """Split on `separator` where it is not escaped by a backslash nor (optionally) inside quotes."""
    pieces = []
    start = 0
    inside_quotes = False
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\":
            index += 2
            continue
        if quotes and char == '"':
            inside_quotes = not inside_quotes
        elif char == separator and not inside_quotes:
            pieces.append(text[start:index])
            start = index + 1
        index += 1
    if inside_quotes:
        raise _BadField("unterminated string field")
    pieces.append(text[start:])
    return pieces


def _partition_unescaped(text, separator, quotes):
    pieces = _split_unescaped(text, separator, quotes)
    if len(pieces) == 1:
        return text, "", ""
    return pieces[0], separator, text[len(pieces[0]) + 1:]


def _parse_series_key(series_key):
    """Measurement and tags from `measurement,tag=value,...`, with escapes removed."""
    parts = _split_unescaped(series_key, ",", quotes=False)
    measurement = _UNESCAPE_MEASUREMENT.sub(r"\1", parts[0])
    if not measurement:
        raise _BadField("empty measurement name")
    tags = {}
    for part in parts[1:]:
        key, found, value = _partition_unescaped(part, "=", quotes=False)
        key, value = _UNESCAPE_KEY.sub(r"\1", key), _UNESCAPE_KEY.sub(r"\1", value)
        if not found or not key or not value:
            raise _BadField(f"malformed tag {_show(part)}: expected key=value")
        if key in tags:
            raise _BadField(f"tag {key!r} given twice")
        tags[key] = value
    return measurement, tags


def _influx_field_value(raw):
    """A field's value as a float, or None for a string field (which is skipped)."""
    suffix = raw[-1]
    if suffix == "i" or suffix == "u":
        digits = _INFLUX_INTEGER if suffix == "i" else _INFLUX_UNSIGNED
        if digits.fullmatch(raw[:-1]):
            integer = int(raw[:-1])
            low, high = _INFLUX_INTEGER_RANGES[suffix]
            if not low <= integer <= high:
                kind = "signed" if suffix == "i" else "unsigned"
                raise _BadField(f"field value {_show(raw)} does not fit in 64 bits ({kind})")
            # Beyond 2**53 this rounds, as any float64 store of a 64-bit integer must.
            return float(integer)
    elif suffix == '"':
        if len(raw) >= 2 and raw[0] == '"':
            return None
    elif raw in _INFLUX_TRUE:
        return 1.0
    elif raw in _INFLUX_FALSE:
        return 0.0
    else:
        try:
            return parse_value(raw)
        except _BadField:
            pass
    raise _BadField(f"unparseable field value {_show(raw)}")


def _influx_timestamp(text):
    if text is None:
        raise _BadField("missing timestamp: a stored dataset needs one per point (export with timestamps)")
    if not _INFLUX_INTEGER.fullmatch(text):
        raise _BadField(f"unparseable timestamp {_show(text)}: line protocol timestamps are integer nanoseconds")
    timestamp = int(text)
    if not _INT64_MIN <= timestamp <= _INT64_MAX:
        raise _BadField(f"timestamp {_show(text)} does not fit in 64 bits")
    return timestamp


# Prometheus HTTP API JSON

class _SampleColumns:
    """A matrix result's "values", already converted to compact columns (see below)."""

    def __init__(self, where, samples):
        self.timestamps, self.values = array("q"), array("d")
        for number, sample in enumerate(samples):
            at = f"{where}[{number}]"
            if not isinstance(sample, list) or len(sample) != 2:
                raise _BadField(f"{at}: expected [time, \"value\"]")
            self.timestamps.append(_prometheus_time(at, sample[0]))
            self.values.append(_prometheus_value(at, sample[1]))


def _read_prometheus_json(path, collector, warnings):
    text = _read_text(path)
    results_converted = 0

    def convert_samples(pairs):
        # Called for each JSON object as soon as it is parsed. A sample as Python objects (a list, a
        # Decimal, a str) costs about 250 bytes against 16 in columns, so each result's "values"
        # becomes columns at once: memory holds one series as objects, not the whole file (13x
        # its size). Results end in document order, so the n-th converted is data.result[n].
        nonlocal results_converted
        item = dict(pairs)
        if isinstance(item.get("values"), list) and "metric" in item:
            item["values"] = _SampleColumns(f"data.result[{results_converted}].values", item["values"])
            results_converted += 1
        return item

    try:
        # Decimal keeps "1700000000.123" exact; a float would already be off by up to 100 ns.
        document = json.loads(text, parse_float=Decimal, object_pairs_hook=convert_samples)
    except _BadField as exc:
        raise FormatError(f"{path}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise FormatError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from None
    except ValueError as exc:  # e.g. an integer literal longer than Python will convert
        raise FormatError(f"{path}: not usable JSON ({exc})") from None
    try:
        histograms = _read_prometheus_document(document, collector)
    except _BadField as exc:
        raise FormatError(f"{path}: {exc}") from None
    if histograms:
        warnings.append(f"{path}: skipped {histograms} native histogram series (only float samples are read)")


def _read_prometheus_document(document, collector):
    if not isinstance(document, dict):
        raise _BadField("expected a JSON object from the Prometheus HTTP API")
    status = document.get("status")
    if status == "error":
        reason = " ".join(f"{document.get('errorType', 'error')}: {document.get('error', '')}".split())
        raise _BadField(f"the query failed: {reason}")
    data = document.get("data")
    if status != "success" or not isinstance(data, dict):
        raise _BadField("not a Prometheus API response (expected \"status\": \"success\" and \"data\")")
    result_type = data.get("resultType")
    if result_type not in ("matrix", "vector"):
        raise _BadField(f"data.resultType is {result_type!r}; only 'matrix' and 'vector' hold series")
    results = data.get("result")
    if not isinstance(results, list):
        raise _BadField("data.result is not a list")
    histograms = 0
    for index, item in enumerate(results):
        where = f"data.result[{index}]"
        if not isinstance(item, dict):
            raise _BadField(f"{where}: expected an object")
        name, labels = _prometheus_identity(where, item.get("metric", {}))
        if result_type == "matrix":
            samples, where = item.get("values", []), where + ".values"
        else:
            samples, where = ([item["value"]] if "value" in item else []), where + ".value"
        histograms += int("histograms" in item or "histogram" in item)
        timestamps, values = collector.columns(name, labels)
        if isinstance(samples, _SampleColumns):
            timestamps.extend(samples.timestamps)
            values.extend(samples.values)
            continue
        if not isinstance(samples, list):
            raise _BadField(f"{where}: expected a list of [time, \"value\"] pairs")
        for number, sample in enumerate(samples):
            at = f"{where}[{number}]" if result_type == "matrix" else where
            if not isinstance(sample, list) or len(sample) != 2:
                raise _BadField(f"{at}: expected [time, \"value\"]")
            timestamps.append(_prometheus_time(at, sample[0]))
            values.append(_prometheus_value(at, sample[1]))
    return histograms


def _prometheus_identity(where, metric):
    if not isinstance(metric, dict) or not all(isinstance(v, str) for v in metric.values()):
        raise _BadField(f"{where}.metric: expected an object of string labels")
    labels = dict(metric)
    name = labels.pop("__name__", "") or UNNAMED_METRIC
    return name, labels


def _prometheus_time(at, time):
    """The API's unix seconds (an integer or an exact Decimal) as integer nanoseconds."""
    if isinstance(time, bool) or not isinstance(time, (int, Decimal)):
        raise _BadField(f"{at}: timestamp {time!r} is not a number of seconds")
    if isinstance(time, Decimal) and time.adjusted() > 30:
        raise _BadField(f"{at}: timestamp {time} is outside the years 1677-2262")
    nanoseconds = time * 10**9 if isinstance(time, int) else _decimal_to_int(time.scaleb(9, _EXACT))
    if not _INT64_MIN <= nanoseconds <= _INT64_MAX:
        raise _BadField(f"{at}: timestamp {time} is outside the years 1677-2262")
    return nanoseconds


def _prometheus_value(at, value):
    if not isinstance(value, str):
        raise _BadField(f"{at}: value {value!r} is not a string (the API quotes sample values)")
    try:
        return parse_value(value)
    except _BadField as exc:
        raise _BadField(f"{at}: {exc}") from None


_READERS = {
    "csv": _read_csv_simple,
    "csv-long": _read_csv_long,
    "influx": _read_influx,
    "prometheus-json": _read_prometheus_json,
}
