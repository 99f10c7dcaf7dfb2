"""Phase 1's NDJSON as text: how a value is written exactly, and reading a whole file back fast.

Values are written with Python's shortest round-trip repr, which parses back to the same float64;
what plain JSON cannot hold is a string, as Prometheus' HTTP API writes it: "NaN", "+Inf", "-Inf",
and "NaN:0x7ff8000000000001" for a NaN whose bits are not the usual quiet NaN's (`format_value`,
`parse_value`: the one definition of that convention).

Reading means turning every line back into numbers, and a general JSON parser spends most of its
time building a dictionary per line only to throw it away. So `read_ndjson` first tries one regular
expression that matches exactly the line 01_ndjson_storage.py writes (the fast path), and parses
each distinct name and labels text once; any chunk holding another line (keys in another order,
extra spaces) is parsed the plain way, one `json.loads` per line, which accepts every valid layout
and names the line it rejects. The plain way is the reference: tests/test_ndjson_reader.py proves
both give the same dataset, on any dataset.
"""
import json
import math
import re
from array import array
from pathlib import Path

import numpy as np

from lib.data.dataset import Series, canonical_order, series_key
from lib.errors import FormatError
from lib.plumbing.progress import Progress
from lib.plumbing.regular_files import open_regular_file

READ_CHUNK_BYTES = 16 << 20
CANONICAL_NAN_BITS = 0x7FF8000000000000
SPECIAL_VALUES = {"NaN": math.nan, "+Inf": math.inf, "-Inf": -math.inf}

# One line exactly as write_ndjson writes it; each group can hold no newline, so with `^...$` in
# MULTILINE mode one match is one whole line. Numbers follow JSON's grammar (a value always has a
# fraction or an exponent, as repr writes it); strings may hold escapes but no raw control characters.
JSON_STRING = rb'"[^"\\\x00-\x1f]*(?:\\.[^"\\\x00-\x1f]*)*"'
JSON_INTEGER = rb"-?(?:0|[1-9][0-9]*)"
JSON_FLOAT = JSON_INTEGER + rb"(?:\.[0-9]+(?:[eE][+-]?[0-9]+)?|[eE][+-]?[0-9]+)"
CANONICAL_LINE = re.compile(
    rb'^\{"timestamp": (' + JSON_INTEGER + rb'), "metric_name": (' + JSON_STRING + rb'), '
    rb'"value": (' + JSON_FLOAT + rb"|" + JSON_STRING + rb'), "labels": (\{[^\n]*\})\}$',
    re.MULTILINE,
)


def format_value(value):
    """Shortest exact text for a float; strings for what JSON cannot express."""
    if math.isfinite(value):
        return repr(value)
    if value == math.inf:
        return '"+Inf"'
    if value == -math.inf:
        return '"-Inf"'
    bits = int(np.float64(value).view(np.uint64))
    return '"NaN"' if bits == CANONICAL_NAN_BITS else f'"NaN:{bits:#018x}"'


def parse_value(raw):
    if isinstance(raw, float):
        return raw
    if isinstance(raw, int) and not isinstance(raw, bool):
        return float(raw)
    if isinstance(raw, str):
        if raw in SPECIAL_VALUES:
            return SPECIAL_VALUES[raw]
        if raw.startswith("NaN:0x") and len(raw) == 22:
            value = float(np.uint64(int(raw[6:], 16)).view(np.float64))
            if math.isnan(value):
                return value
    raise ValueError(f"not a metric value: {raw!r}")


def read_ndjson(path):
    """Parse an NDJSON metrics file back into a dataset (canonical series order)."""
    columns = SeriesColumns()
    progress = Progress("reading NDJSON", Path(path).stat().st_size, unit="bytes")
    for first_line_number, line_count, lines in read_whole_lines(path):
        if not parse_canonical_lines(lines, line_count, columns):
            parse_lines_one_by_one(lines, first_line_number, columns, path)
        progress.advance(len(lines))
    progress.finish()
    try:
        return columns.to_dataset()
    except ValueError as exc:
        raise FormatError(f"{path}: {exc}") from None


def read_whole_lines(path, chunk_bytes=None):
    """Yield (number of the first line, number of lines, bytes of whole lines), chunk_bytes at a time.

    A line longer than a chunk is gathered in pieces and joined once, so a damaged file with no
    newline costs linear time, not quadratic.
    """
    line_number = 1
    pending = []  # pieces of a line not yet ended
    source, _size = open_regular_file(path)
    with source as f:
        while block := f.read(chunk_bytes or READ_CHUNK_BYTES):
            end = block.rfind(b"\n") + 1
            if not end:
                pending.append(block)
                continue
            whole = b"".join(pending + [block[:end]])
            pending = [block[end:]] if end < len(block) else []
            line_count = whole.count(b"\n")
            yield line_number, line_count, whole
            line_number += line_count
    if pending:
        yield line_number, 1, b"".join(pending) + b"\n"


class SeriesColumns:
    """The points read so far, gathered per series in file order."""

    def __init__(self):
        self.slot_of_key = {}
        self.series = []  # per slot: (name, labels, [timestamp arrays], [value arrays])

    def slot(self, name, labels):
        key = series_key(name, labels)
        if key not in self.slot_of_key:
            self.slot_of_key[key] = len(self.series)
            self.series.append((name, labels, [], []))
        return self.slot_of_key[key]

    def add(self, slots, timestamps, values):
        """Append points; slots[i] is the series of point i. Each series keeps the points' order."""
        order = np.argsort(slots, kind="stable")
        counts = np.bincount(slots, minlength=len(self.series))
        bounds = np.cumsum(counts)
        for slot in np.flatnonzero(counts):
            picked = order[bounds[slot] - counts[slot]:bounds[slot]]
            self.series[slot][2].append(timestamps[picked])
            self.series[slot][3].append(values[picked])

    def to_dataset(self):
        return canonical_order(
            Series(name, labels, np.concatenate(ts or [np.empty(0, np.int64)]), np.concatenate(vs or [np.empty(0)]))
            for name, labels, ts, vs in self.series
        )


def parse_canonical_lines(lines, line_count, columns):
    """The fast path: parse whole lines of write_ndjson's exact layout into `columns`.

    Returns False, having added nothing, if any line has another layout or a value this path does
    not handle; the caller then parses the lines one by one.
    """
    matches = CANONICAL_LINE.findall(lines)
    if len(matches) != line_count:  # each match is one whole line, so some line has another layout
        return False
    if not matches:
        return True
    timestamp_texts, name_texts, value_texts, labels_texts = zip(*matches)
    try:
        timestamps = np.array(list(map(int, timestamp_texts)), dtype=np.int64)
        values = parse_value_texts(value_texts)
        identities = {text: parse_identity(*text) for text in set(zip(name_texts, labels_texts))}
    except (ValueError, OverflowError):  # out of int64 range, "lots", labels that are not an object
        return False
    slot_of_text = {text: columns.slot(name, labels) for text, (name, labels) in identities.items()}
    slots = np.array([slot_of_text[text] for text in zip(name_texts, labels_texts)], dtype=np.int64)
    columns.add(slots, timestamps, values)
    return True


def parse_identity(name_text, labels_text):
    """A series' name and labels from their JSON texts, parsed once per distinct text."""
    labels = json.loads(labels_text.decode("utf-8"))
    if not isinstance(labels, dict):
        raise ValueError("labels must be a JSON object")
    return json.loads(name_text.decode("utf-8")), labels


def parse_value_texts(texts):
    try:
        return np.array(list(map(float, texts)), dtype=np.float64)
    except ValueError:  # some are strings such as "NaN": the JSON text decides
        return np.array([parse_value(json.loads(text.decode("utf-8"))) for text in texts], dtype=np.float64)


def parse_lines_one_by_one(lines, first_line_number, columns, path):
    """The plain way: one json.loads per line, any valid JSON layout accepted."""
    slots, timestamps, values = [], array("q"), array("d")
    for line_number, line in enumerate(lines.split(b"\n")[:-1], start=first_line_number):
        try:
            point = json.loads(line)
            slot = columns.slot(point["metric_name"], point["labels"])
            if "timestamp" in point or "value" in point:
                timestamp = point["timestamp"]
                if not isinstance(timestamp, int) or isinstance(timestamp, bool):
                    raise ValueError(f"timestamp must be an integer, got {timestamp!r}")
                timestamps.append(timestamp)
                values.append(parse_value(point["value"]))
                slots.append(slot)
        except (ValueError, KeyError, TypeError, AttributeError, OverflowError, RecursionError) as exc:
            raise FormatError(f"{path}:{line_number}: bad NDJSON point ({exc})") from None
    columns.add(np.array(slots, dtype=np.int64), np.frombuffer(timestamps, dtype=np.int64),
                np.frombuffer(values, dtype=np.float64))
