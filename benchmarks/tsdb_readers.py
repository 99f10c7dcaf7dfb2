"""Reading back what the databases return, as Series to compare with what was written.

Each database answers in its own text, and each of these readers takes that text apart exactly (no
float parsing shortcuts: Python's float() reads the shortest decimal that Go writes back to the same
64 bits) and refuses anything else with a FormatError naming the line:

- `promtool tsdb dump`: one sample a line, the label set as Go prints it, then the value (Go's %g)
  and the timestamp in milliseconds:

      {__name__="up", job="api \\"x\\""} 1 1704067200123

- VictoriaMetrics `/api/v1/export`: JSON lines, one series a line (or several lines for one
  series), values and millisecond timestamps as arrays; Inf and NaN are written as the bare words
  `+Inf`, `-Inf`, `NaN`, which JSON has no word for, so the arrays are split by hand:

      {"metric":{"__name__":"up","job":"api"},"values":[1,0.5],"timestamps":[1704067200123,1704067215123]}

- InfluxDB 1.x `/query?epoch=ns&chunked=true`: one JSON document a line, series by measurement and
  tags, rows of [nanoseconds, value]; a series may continue over several documents, and a tag that
  a series does not have comes back as "" (`GROUP BY *` lists every tag key of the measurement).
  Go writes -0.0 as `-0`, which json.loads would read as the integer 0, so that one is read as -0.0.
"""
import json
import re
from collections import defaultdict

import numpy as np

from lib.data.dataset import NS_PER_MS, Series
from lib.errors import FormatError

NAME_LABEL = "__name__"
_DUMP_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
# Every backslash starts a match; the last alternative catches the escapes Go never writes.
_GO_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{3}|[abfnrtv\\'\"]|.?)",
                        re.S)
_GO_SIMPLE_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
                      "\\": "\\", "'": "'", '"': '"'}
VM_VALUES, VM_TIMESTAMPS, VM_END = ',"values":[', '],"timestamps":[', "]}"
VM_WORDS = {"NaN": float("nan"), "+Inf": float("inf"), "-Inf": float("-inf"), "Inf": float("inf")}


class SeriesCollector:
    """Points of many series, added in pieces, as Series at the end (each series' pieces in order)."""

    def __init__(self):
        self.pieces = defaultdict(list)

    def add(self, name, labels, timestamps_ns, values):
        key = (name, tuple(sorted(labels.items())))
        self.pieces[key].append((np.asarray(timestamps_ns, dtype=np.int64),
                                 np.asarray(values, dtype=np.float64)))

    def series(self):
        return [Series(name, dict(labels), np.concatenate([t for t, _ in pieces]),
                       np.concatenate([v for _, v in pieces]))
                for (name, labels), pieces in self.pieces.items()]


def _identity(labels, where):
    """(metric name, other labels) of a Prometheus-style label set."""
    labels = dict(labels)
    name = labels.pop(NAME_LABEL, None)
    if not name:
        raise FormatError(f"{where}: a series without {NAME_LABEL}")
    return name, labels


# promtool tsdb dump

def read_promtool_dump(lines):
    """The Series of `promtool tsdb dump` output (an iterable of lines)."""
    collector = SeriesCollector()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        labels, value, timestamp_ms = parse_dump_line(line, f"promtool dump line {number}")
        collector.add(*_identity(labels, f"promtool dump line {number}"), [timestamp_ms * NS_PER_MS], [value])
    return collector.series()


def parse_dump_line(line, where="promtool dump"):
    """({label: value}, value, timestamp in ms) of one dump line."""
    parts = line.rstrip("\n").rsplit(" ", 2)
    if len(parts) != 3 or not parts[0].startswith("{") or not parts[0].endswith("}"):
        raise FormatError(f"{where}: not 'labels value timestamp': {line[:80]!r}")
    return parse_go_label_set(parts[0], where), _number(parts[1], where), _integer(parts[2], where)


def parse_go_label_set(text, where):
    """`{a="x", b="y\\n"}` as Prometheus' labels.String() writes it -> {"a": "x", "b": "y\\n"}."""
    labels, position = {}, 1
    while position < len(text) - 1:
        match = _DUMP_LABEL.match(text, position)
        if match is None:
            raise FormatError(f"{where}: cannot read the label set {text[:80]!r}")
        if match.group(1) in labels:
            raise FormatError(f"{where}: label {match.group(1)!r} twice")
        labels[match.group(1)] = unquote_go(match.group(2), where)
        position = match.end()
        if text.startswith(", ", position):
            position += 2
        elif position != len(text) - 1:
            raise FormatError(f"{where}: cannot read the label set {text[:80]!r}")
    return labels


def unquote_go(text, where="label value"):
    """The string inside Go's strconv.Quote: escapes undone, \\x bytes joined as UTF-8."""
    out, position = bytearray(), 0
    for match in _GO_ESCAPE.finditer(text):
        out += text[position:match.start()].encode("utf-8")
        out += _escaped_bytes(match.group(1), text, where)
        position = match.end()
    out += text[position:].encode("utf-8")
    try:
        return out.decode("utf-8")
    except UnicodeDecodeError:
        raise FormatError(f"{where}: {text!r} is not UTF-8 once unescaped") from None


def _escaped_bytes(escape, text, where):
    if escape[:1] == "x" and len(escape) == 3:
        return bytes([int(escape[1:], 16)])
    if escape[:1] in ("u", "U") and len(escape) > 1 and int(escape[1:], 16) <= 0x10FFFF:
        return chr(int(escape[1:], 16)).encode("utf-8", "surrogatepass")
    if escape[:1].isdigit() and len(escape) == 3:
        return bytes([int(escape, 8)])
    if escape in _GO_SIMPLE_ESCAPES:
        return _GO_SIMPLE_ESCAPES[escape].encode("utf-8")
    raise FormatError(f"{where}: unknown escape \\{escape} in {text!r}")


# VictoriaMetrics /api/v1/export

def read_vm_export(lines):
    """The Series of VictoriaMetrics' JSON-lines export (an iterable of lines)."""
    collector = SeriesCollector()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"VictoriaMetrics export line {number}"
        labels, values, timestamps_ms = parse_vm_line(line.strip(), where)
        timestamps_ns = np.asarray(timestamps_ms, dtype=np.int64) * NS_PER_MS
        collector.add(*_identity(labels, where), timestamps_ns, values)
    return collector.series()


def parse_vm_line(line, where="VictoriaMetrics export"):
    """({label: value}, values, timestamps in ms) of one export line.

    `,"values":[` cannot occur inside the metric's JSON strings (a quote in a string is escaped), so
    the first occurrence ends the metric object.
    """
    head, found, rest = line.partition(VM_VALUES)
    values_text, found_timestamps, timestamps_text = rest.partition(VM_TIMESTAMPS)
    shaped = found and found_timestamps and timestamps_text.endswith(VM_END) and head.startswith('{"metric":')
    if not shaped:
        raise FormatError(f"{where}: not a VictoriaMetrics export line: {line[:80]!r}")
    try:
        labels = json.loads(head + "}")["metric"]
    except (ValueError, KeyError, TypeError):
        raise FormatError(f"{where}: cannot read the metric object {head[:80]!r}") from None
    if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
        raise FormatError(f"{where}: the metric is not a set of string labels")
    values = [_number(text, where) for text in _array_items(values_text)]
    timestamps = [_integer(text, where) for text in _array_items(timestamps_text[:-len(VM_END)])]
    if len(values) != len(timestamps):
        raise FormatError(f"{where}: {len(values)} values but {len(timestamps)} timestamps")
    return labels, values, timestamps


def _array_items(text):
    return text.split(",") if text else []


# InfluxDB /query, chunked JSON

def read_influxql_chunks(lines, field="value"):
    """The Series of a chunked InfluxQL answer to `SELECT "<field>" ... GROUP BY *` (epoch=ns)."""
    collector = SeriesCollector()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"InfluxDB answer line {number}"
        try:
            document = json.loads(line, parse_int=_json_integer)
        except ValueError:
            raise FormatError(f"{where}: not JSON: {line[:80]!r}") from None
        for name, tags, timestamps, values in influxql_series(document, field, where):
            collector.add(name, tags, timestamps, values)
    return collector.series()


def influxql_series(document, field, where):
    """(measurement, tags without the empty ones, timestamps, values) of each series in a document."""
    if "error" in document:
        raise FormatError(f"{where}: InfluxDB says {document['error']}")
    for result in document.get("results", []):
        if "error" in result:
            raise FormatError(f"{where}: InfluxDB says {result['error']}")
        for series in result.get("series", []):
            if series.get("columns") != ["time", field]:
                raise FormatError(f"{where}: columns {series.get('columns')}, expected ['time', {field!r}]")
            rows = series.get("values", [])
            if not all(_is_influx_row(row) for row in rows):
                raise FormatError(f"{where}: a row of {series.get('name')!r} is not [nanoseconds, number]")
            tags = {k: v for k, v in (series.get("tags") or {}).items() if v != ""}
            yield series["name"], tags, [row[0] for row in rows], [float(row[1]) for row in rows]


def _json_integer(text):
    """JSON integers as Python ints, except "-0": Go writes -0.0 so, and int("-0") loses the sign."""
    return -0.0 if text == "-0" else int(text)


def _is_influx_row(row):
    return (isinstance(row, list) and len(row) == 2 and type(row[0]) is int
            and type(row[1]) in (int, float))


# Numbers

def _number(text, where):
    if text in VM_WORDS:
        return VM_WORDS[text]
    try:
        return float(text)
    except ValueError:
        raise FormatError(f"{where}: {text[:40]!r} is not a number") from None


def _integer(text, where):
    try:
        return int(text)
    except ValueError:
        raise FormatError(f"{where}: {text[:40]!r} is not an integer timestamp") from None
