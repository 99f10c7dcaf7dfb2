"""InfluxDB line protocol: `measurement[,tag=value...] field=value[,...] timestamp`.

Each numeric field of a line becomes a point of the series `<measurement>_<field>` with the tags
as labels, except a field named `value`, which is the series `<measurement>` itself: that is how
InfluxDB stores Prometheus remote-write data (`http_requests,host=a value=1027 ...`), and how
lib/data/exporters/line_protocol.py writes a series. Integers (`12i`), unsigned integers (`12u`)
and floats are values; booleans become 1.0 and 0.0 (like Prometheus' `up`, a 0/1 gauge loses
nothing); string fields are skipped and counted in a warning. Comments (`#`) and blank lines are
ignored. Timestamps are nanoseconds, the protocol's default precision; a line without one is an
error, because the server would have stamped it with its arrival time, which a file cannot tell
us. Integers must fit their 64-bit type (`i` signed, `u` unsigned). As in InfluxDB, only a space
separates the parts of a line (a tab or a non-breaking space belongs to the name it is in), and
blank space is trimmed only at the ends of a line.
"""
import re

from lib.data.importers.fields import BadField, parse_value, show
from lib.data.importers.files import text_lines
from lib.data.importers.timestamps import INT64_MAX, INT64_MIN
from lib.errors import FormatError

_INFLUX_INTEGER = re.compile(r"-?\d{1,20}", re.ASCII)  # int64 has at most 19 digits
_INFLUX_UNSIGNED = re.compile(r"\d{1,20}", re.ASCII)
_INFLUX_INTEGER_RANGES = {"i": (INT64_MIN, INT64_MAX), "u": (0, 2**64 - 1)}
_INFLUX_TRUE = frozenset(("t", "T", "true", "True", "TRUE"))
_INFLUX_FALSE = frozenset(("f", "F", "false", "False", "FALSE"))
_UNESCAPE_MEASUREMENT = re.compile(r"\\([, \\])")
_UNESCAPE_KEY = re.compile(r"\\([,= \\])")
VALUE_FIELD = "value"  # the field whose series is named after the measurement alone
_LINE_ENDS = " \t\r\n"  # what InfluxDB skips around a line; other blank characters are data


def read_line_protocol(path, collector, warnings):
    series_columns = {}  # (raw series key, raw field key) -> arrays, parsed once per series
    strings_skipped = 0
    for line_number, line in enumerate(text_lines(path, collector.chunk_done), 1):
        line = line.strip(_LINE_ENDS)
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
                    name = _series_name(measurement, _UNESCAPE_KEY.sub(r"\1", field_key))
                    target = series_columns[series_key, field_key] = collector.columns(name, tags)
                target[0].append(timestamp)
                target[1].append(value)
        except BadField as exc:
            raise FormatError(f"{path}:{line_number}: {exc}") from None
    if strings_skipped:
        warnings.append(f"{path}: skipped {strings_skipped} string field values (only numbers are series)")


def _series_name(measurement, field):
    return measurement if field == VALUE_FIELD else f"{measurement}_{field}"


def _split_line(line):
    """Split a line into (series key, [(field key, raw value)], timestamp text or None)."""
    if "\\" not in line and '"' not in line:
        # The common case needs no escape handling, and plain str.split is much faster.
        series_key, *rest = [part for part in line.split(" ") if part]
        fields = [_field_pair(part, part.partition("=")) for part in rest[0].split(",")] if rest else []
    else:
        series_key, _, remainder = _partition_unescaped(line, " ", quotes=False)
        rest = [part for part in _split_unescaped(remainder, " ", quotes=True) if part]
        fields = [
            _field_pair(part, _partition_unescaped(part, "=", quotes=False))
            for part in _split_unescaped(rest[0], ",", quotes=True)
        ] if rest else []
    if not rest:
        raise BadField("no fields: expected 'measurement[,tag=value...] field=value[,...] timestamp'")
    if len(rest) > 2:
        raise BadField("unexpected text after the timestamp (an unescaped space?)")
    return series_key, fields, rest[1] if len(rest) == 2 else None


def _field_pair(part, partition):
    key, found, value = partition
    if not found or not key or not value:
        raise BadField(f"malformed field {show(part)}: expected key=value")
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
        raise BadField("unterminated string field")
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
        raise BadField("empty measurement name")
    tags = {}
    for part in parts[1:]:
        key, found, value = _partition_unescaped(part, "=", quotes=False)
        key, value = _UNESCAPE_KEY.sub(r"\1", key), _UNESCAPE_KEY.sub(r"\1", value)
        if not found or not key or not value:
            raise BadField(f"malformed tag {show(part)}: expected key=value")
        if key in tags:
            raise BadField(f"tag {key!r} given twice")
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
                raise BadField(f"field value {show(raw)} does not fit in 64 bits ({kind})")
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
        except BadField:
            pass
    raise BadField(f"unparseable field value {show(raw)}")


def _influx_timestamp(text):
    if text is None:
        raise BadField("missing timestamp: a stored dataset needs one per point (export with timestamps)")
    if not _INFLUX_INTEGER.fullmatch(text):
        raise BadField(f"unparseable timestamp {show(text)}: line protocol timestamps are integer nanoseconds")
    timestamp = int(text)
    if not INT64_MIN <= timestamp <= INT64_MAX:
        raise BadField(f"timestamp {show(text)} does not fit in 64 bits")
    return timestamp
