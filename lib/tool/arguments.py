"""What the tool's arguments mean: sizes, durations, times and label selectors, each refused in one line.

    parse_size("64M") == 64 * 2**20        parse_label("host=a") == ("host", "a")
    parse_time("2024-01-01T00:00:00Z", end) == 1704067200 * 10**9
    parse_time("-7d", end) == end - 7 * 86400 * 10**9        parse_time("end", end) == end

Times are epoch seconds (or ms, us, ns, told by magnitude) or ISO 8601, as the importers read them
(lib/data/importers/timestamps.py), or relative to the end of the file: "end", "-90m", "-7d".
Durations are a whole number of one unit (s, m, h, d, w, y), as retention policies write them.
"""
import argparse
from datetime import datetime, timezone

from lib.data.dataset import NS_PER_SECOND
from lib.data.importers import parse_timestamp
from lib.data.importers.fields import BadField
from lib.retention.policy import parse_duration

SIZE_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
END = "end"


def parse_size(text):
    """Bytes from "64M", "1G", "500K" or a plain number of bytes (K, M, G are powers of 1024)."""
    number, unit = text.strip().upper().removesuffix("B"), ""
    if number[-1:] in SIZE_UNITS:
        number, unit = number[:-1], number[-1]
    if not number.isascii() or not number.isdigit() or int(number) <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size such as 64M, 1G or 500K")
    return int(number) * SIZE_UNITS[unit]


def parse_step(text):
    """A duration as nanoseconds, refused as an argument error."""
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def parse_label(text):
    """"key=value" -> (key, value); the value may be empty or hold "=" itself."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"{text!r} is not a label selector such as host=a")
    return key, value


def parse_time(text, end_ns):
    """Nanoseconds from an absolute time, "end", or a duration before the end ("-7d")."""
    text = text.strip()
    if text == END:
        return end_ns
    if text.startswith("-") and text[-1:].isalpha():
        return end_ns - parse_duration(text[1:])
    try:
        return parse_timestamp(text)
    except BadField as exc:
        raise ValueError(f"{exc}: give epoch seconds, an ISO 8601 time, {END!r} or a duration before the end "
                         f"such as -7d") from None


def format_time(ns):
    """ISO 8601 in UTC, with as many fractional digits as the time needs: 2023-11-14T22:13:20Z,
    2023-11-14T22:13:20.5Z."""
    seconds, fraction = divmod(int(ns), NS_PER_SECOND)
    text = datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    if fraction:
        text += "." + f"{fraction:09d}".rstrip("0")
    return text + "Z"
