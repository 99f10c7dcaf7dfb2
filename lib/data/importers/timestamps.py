"""Timestamps from text: epoch numbers in any unit and ISO 8601 dates, as int64 nanoseconds.

Timestamps in CSV may be epoch numbers, integer or decimal, whose unit is told by magnitude:
|t| < 1e11 is seconds, < 1e14 milliseconds, < 1e17 microseconds, anything larger nanoseconds.
The bands cannot be confused for real dates: seconds reach 1e11 only in the year 5138, while
milliseconds pass 1e11 in March 1973 (earlier ones would be misread as seconds). Whatever the
unit, the result must fit int64 nanoseconds, the years 1677 to 2262. Conversion is exact integer
and Decimal arithmetic, never float: "1700000000.123" seconds is 1700000000123000000 ns. Digits
finer than a nanosecond are rounded half to even. ISO 8601 (`2023-10-12T14:30:00Z`,
`2023-10-12T14:30:00.123456789+02:00`, a date alone) and `2023-10-12 14:30:00` are also
accepted; without an offset the time is UTC. ISO offsets run from 00:00 to 23:59.

Formats whose timestamps are always seconds (OpenMetrics) use `parse_seconds`: no unit by
magnitude, no ISO dates, the same exact conversion and range.
"""
import re
from datetime import date
from decimal import ROUND_HALF_EVEN, Context, Decimal

from lib.data.importers.fields import BadField, show

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

# (magnitude limit, power of ten to nanoseconds): seconds, milliseconds, microseconds.
_EPOCH_UNITS = ((10**11, 9), (10**14, 6), (10**17, 3))
_SECONDS_POWER = 9
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
        raise BadField(f"unparseable timestamp {show(text)}: {len(text):,} characters, too long for a timestamp")
    if text.isascii() and text.isdigit():
        if len(text.lstrip("0")) > _MAX_TIMESTAMP_DIGITS:
            raise BadField(f"timestamp {show(text)} is outside the years 1677-2262")
        nanoseconds = _epoch_to_ns(int(text))
    else:
        nanoseconds = _parse_timestamp_slowly(text.strip())
    if not INT64_MIN <= nanoseconds <= INT64_MAX:
        raise BadField(f"timestamp {show(text)} is outside the years 1677-2262")
    return nanoseconds


def parse_seconds(text):
    """Nanoseconds from unix seconds written as a decimal number ("1700000000.5", "-1", "1.7e9")."""
    if len(text) > _MAX_TIMESTAMP_CHARACTERS or not _DECIMAL_NUMBER.fullmatch(text):
        raise BadField(f"unparseable timestamp {show(text)}: expected unix seconds")
    nanoseconds = seconds_to_ns(_exact_decimal(text))
    if not INT64_MIN <= nanoseconds <= INT64_MAX:
        raise BadField(f"timestamp {show(text)} is outside the years 1677-2262")
    return nanoseconds


def seconds_to_ns(seconds):
    """Unix seconds, an int or an exact Decimal, as integer nanoseconds (range not checked)."""
    return _scaled_to_int(seconds, _SECONDS_POWER)


def _parse_timestamp_slowly(text):
    if _DECIMAL_NUMBER.fullmatch(text):
        number = _exact_decimal(text)
        if number == number.to_integral_value():
            return _epoch_to_ns(int(number))
        return _epoch_to_ns(number)
    match = _ISO_DATETIME.fullmatch(text)
    if match:
        return _iso_to_ns(match, text)
    raise BadField(f"unparseable timestamp {show(text)}")


def _exact_decimal(text):
    """A decimal number's text as a Decimal, refusing magnitudes no timestamp in any unit has."""
    try:
        number = Decimal(text)
    except ArithmeticError:  # an exponent beyond what Decimal represents, e.g. 1e-99999999999999999999
        raise BadField(f"timestamp {show(text)} is outside the years 1677-2262") from None
    if number.adjusted() < -30:
        return Decimal(0)  # far below a nanosecond in any unit
    if number.adjusted() > 30:
        # Checked before any int() so "1e999999" cannot build a million-digit integer.
        raise BadField(f"timestamp {show(text)} is outside the years 1677-2262")
    return number


def _epoch_to_ns(number):
    """Scale an epoch number (int or Decimal) to integer nanoseconds, choosing its unit by size."""
    magnitude = abs(number)
    power = next((p for limit, p in _EPOCH_UNITS if magnitude < limit), 0)
    return _scaled_to_int(number, power)


def _scaled_to_int(number, power):
    """number * 10**power as an int: exact for an int, a Decimal rounded half to even."""
    if isinstance(number, int):
        return number * 10**power
    return int(number.scaleb(power, _EXACT).to_integral_value(rounding=ROUND_HALF_EVEN, context=_EXACT))


def _iso_to_ns(match, text):
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    try:
        days = date(int(year), int(month), int(day)).toordinal() - _EPOCH_ORDINAL
    except ValueError:
        raise BadField(f"no such date in timestamp {show(text)}") from None
    hour, minute, second = int(hour or 0), int(minute or 0), int(second or 0)
    if hour > 23 or minute > 59 or second > 59:
        raise BadField(f"no such time of day in timestamp {show(text)}")
    seconds = days * 86400 + hour * 3600 + minute * 60 + second - _offset_seconds(offset)
    return seconds_to_ns(seconds) + _fraction_to_ns(fraction or "")


def _offset_seconds(offset):
    if offset is None or offset.upper() == "Z":
        return 0
    digits = offset[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours > _MAX_OFFSET_HOURS or minutes > _MAX_OFFSET_MINUTES:
        raise BadField(f"no such UTC offset {offset!r} (hours 00-23, minutes 00-59)")
    seconds = hours * 3600 + minutes * 60
    return -seconds if offset[0] == "-" else seconds


def _fraction_to_ns(digits):
    """The digits after the decimal point of a second, as nanoseconds (rounded past the ninth)."""
    if len(digits) <= 9:
        return int(digits.ljust(9, "0"))
    return seconds_to_ns(Decimal("0." + digits))
