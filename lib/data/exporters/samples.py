"""Points as text, exactly, a chunk at a time: what every exporter shares.

Values are written with Python's `repr`, the shortest text that `float()` reads back to the same
64 bits ("0.1", "5e-324", "-0.0", "1.7976931348623157e+308"). The values a number cannot spell are
written as Prometheus writes them: "NaN", "+Inf", "-Inf". Only one NaN has that text: the quiet
NaN 0x7ff8000000000000, which is what every reader makes of "NaN". Any other NaN (a payload, a
sign bit, Prometheus' stale marker 0x7ff0000000000002) would come back as that one, so it is
refused, never rounded to it.

Timestamps are decimal unix seconds with the nanoseconds as a fraction, trailing zeros dropped:

    1_700_000_000_123_000_000 ns  ->  "1700000000.123"
                           -1 ns  ->  "-0.000000001"
                  INT64_MIN ns  ->  "-9223372036.854775808"

Every int64 nanosecond count is below 1e11 seconds in magnitude (9.3e9 at most), so readers that
tell the unit by magnitude (lib/data/importers/timestamps.py) read these as seconds, and exactly.

A series is written in chunks of CHUNK_POINTS points: memory holds one series and one chunk of text,
never the whole output. A refusal is an `UnrepresentableError` naming the format, the series and,
where there is one, the point: `influx: cpu{host="a"} point 17: line protocol has no NaN`.
"""
import numpy as np

from lib.data.dataset import NS_PER_SECOND, float_bits
from lib.errors import UnrepresentableError

CHUNK_POINTS = 1 << 16
QUIET_NAN_BITS = 0x7FF8000000000000
PROMETHEUS_STALE_MARKER_BITS = 0x7FF0000000000002
NAN_TEXT, PLUS_INF_TEXT, MINUS_INF_TEXT = "NaN", "+Inf", "-Inf"


def point_chunks(series):
    """(index of the first point, timestamps as ints, values as a float64 array) per chunk."""
    for start in range(0, len(series), CHUNK_POINTS):
        end = start + CHUNK_POINTS
        yield start, series.timestamps[start:end].tolist(), series.values[start:end]


def seconds_text(nanoseconds):
    """Unix seconds as exact decimal text: 1_500_000_000 ns -> "1.5", -1 ns -> "-0.000000001"."""
    whole, fraction = divmod(abs(nanoseconds), NS_PER_SECOND)
    sign = "-" if nanoseconds < 0 else ""
    if fraction == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{fraction:09d}".rstrip("0")


def value_texts(fmt, series, start, values):
    """The text of each value of a chunk; `start` is the index of its first point in the series."""
    texts = list(map(repr, values.tolist()))
    for index in np.flatnonzero(~np.isfinite(values)).tolist():
        texts[index] = _non_finite_text(fmt, series, start + index, values[index:index + 1])
    return texts


def exposition_text(series, fmt, type_word, selector, check, timestamp_text):
    """Every series (in canonical order) in a Prometheus-style exposition format, a chunk of text
    at a time: `# TYPE name <type_word>` before each metric family, then `selector value time`
    per point. `selector(series)` spells name and labels, `check(series)` refuses what the format
    cannot hold, `timestamp_text(ns)` spells a time."""
    previous = None
    for s in series:
        if previous is not None and s.key <= previous.key:
            raise ValueError(f"series out of canonical order: {shown_name(s)} after {shown_name(previous)}")
        name_and_labels = selector(s)
        check(s)
        family = f"# TYPE {s.name} {type_word}\n" if previous is None or s.name != previous.name else ""
        for start, timestamps, values in point_chunks(s):
            texts = value_texts(fmt, s, start, values)
            yield family + "".join(f"{name_and_labels} {v} {timestamp_text(t)}\n" for t, v in zip(timestamps, texts))
            family = ""
        previous = s


def first_non_finite(values):
    """Index of the first NaN or infinity in `values`, or None."""
    found = np.flatnonzero(~np.isfinite(values))
    return int(found[0]) if found.size else None


def _non_finite_text(fmt, series, index, one_value):
    value = float(one_value[0])
    if value == np.inf:
        return PLUS_INF_TEXT
    if value == -np.inf:
        return MINUS_INF_TEXT
    bits = int(float_bits(one_value)[0])
    if bits == QUIET_NAN_BITS:
        return NAN_TEXT
    what = " (Prometheus' stale marker)" if bits == PROMETHEUS_STALE_MARKER_BITS else ""
    only = f"only the quiet NaN {QUIET_NAN_BITS:#018x} is written NaN"
    raise unrepresentable(fmt, series, f"NaN {bits:#018x}{what} has no text; {only}", index)


def unrepresentable(fmt, series, what, point=None):
    """The error for something `fmt` cannot carry, on one line whatever the labels hold."""
    where = f" point {point}" if point is not None else ""
    return UnrepresentableError(f"{fmt}: {shown_name(series)}{where}: {what}")


def shown_name(series):
    """The series' display name with line breaks escaped, so an error stays one line."""
    return series.display_name().replace("\r", "\\r").replace("\n", "\\n")
