"""Timestamps from text (lib/data/importers/timestamps.py): epoch numbers in every unit, ISO 8601,
the int64 range, and seconds alone. Expected nanoseconds are worked out by hand:
2023-10-12T14:30:00Z is 19642 days * 86400 s + 14.5 h = 1697121000 s after the epoch.
"""
import pytest

from lib.data.importers import parse_timestamp
from lib.data.importers.timestamps import parse_seconds


@pytest.mark.parametrize(
    "text, expected_ns",
    [
        ("1700000000", 1_700_000_000_000_000_000),  # seconds
        ("1700000000.123", 1_700_000_000_123_000_000),  # decimal seconds, no float rounding
        ("1700000000.123456789", 1_700_000_000_123_456_789),
        ("1700000000123", 1_700_000_000_123_000_000),  # milliseconds
        ("1700000000123.456", 1_700_000_000_123_456_000),
        ("1700000000123456", 1_700_000_000_123_456_000),  # microseconds
        ("1700000000123456789", 1_700_000_000_123_456_789),  # nanoseconds
        ("1.7e9", 1_700_000_000_000_000_000),
        ("0", 0),
        ("-86400", -86_400_000_000_000),  # the day before the epoch
        ("9000000000", 9_000_000_000_000_000_000),  # seconds, in the year 2255
        ("100000000000", 100_000_000_000_000_000),  # 1e11: milliseconds (March 1973)
        ("9000000000000", 9_000_000_000_000_000_000),  # milliseconds, 2255 again
        ("100000000000000", 100_000_000_000_000_000),  # 1e14: microseconds
        ("100000000000000000", 100_000_000_000_000_000),  # 1e17: nanoseconds
        ("1.0000000005", 1_000_000_000),  # half a nanosecond rounds half to even (down)
        ("1.0000000015", 1_000_000_002),  # (and up)
        (" 1700000000 ", 1_700_000_000_000_000_000),
        ("2023-10-12T14:30:00Z", 1_697_121_000_000_000_000),
        ("2023-10-12t14:30:00z", 1_697_121_000_000_000_000),
        ("2023-10-12 14:30:00", 1_697_121_000_000_000_000),  # no offset: UTC
        ("2023-10-12T14:30:00.5Z", 1_697_121_000_500_000_000),
        ("2023-10-12T14:30:00.123456789Z", 1_697_121_000_123_456_789),
        ("2023-10-12T14:30:00,25Z", 1_697_121_000_250_000_000),
        ("2023-10-12T16:30:00+02:00", 1_697_121_000_000_000_000),  # 16:30 at +2 h is 14:30 UTC
        ("2023-10-12T09:00:00-0530", 1_697_121_000_000_000_000),  # 09:00 at -5:30 is 14:30 UTC
        ("2023-10-12T14:30Z", 1_697_121_000_000_000_000),
        ("2023-10-12", 1_697_068_800_000_000_000),  # midnight UTC: 19642 days * 86400
        ("1970-01-01T00:00:00Z", 0),
        ("1969-12-31T23:59:59.999999999Z", -1),
        ("2000-02-29T00:00:00Z", 951_782_400_000_000_000),  # leap day
    ],
)
def test_timestamp_forms_convert_exactly(text, expected_ns):
    assert parse_timestamp(text) == expected_ns


@pytest.mark.parametrize(
    "text",
    ["", "yesterday", "12:30", "2023-13-01T00:00:00Z", "2023-02-30", "2023-10-12T24:00:00Z",
     "1e999999", "2023-10-12T14:30:00Zjunk",
     # Numbers in range for their unit but past what int64 nanoseconds hold (about 2262).
     "99999999999", "99999999999999", "99999999999999999999", "-9300000000",
     # Offsets beyond 23:59 are no offsets at all.
     "2023-10-12T14:30:00+99:99", "2023-10-12T14:30:00-00:60", "2023-10-12T14:30:00+24:00"],
)
def test_unparseable_or_out_of_range_timestamps_are_refused(text):
    with pytest.raises(ValueError):
        parse_timestamp(text)


@pytest.mark.parametrize("text", ["0" * 100_000 + "1700000000", "0" * 100_000, "1" * 1000 + ".5"])
def test_absurdly_long_timestamps_are_malformed_not_out_of_range(text):
    with pytest.raises(ValueError, match="unparseable timestamp") as caught:
        parse_timestamp(text)
    assert len(str(caught.value)) < 200


def test_a_few_leading_zeros_are_still_a_timestamp():
    assert parse_timestamp("0001700000000") == 1_700_000_000_000_000_000


@pytest.mark.parametrize("text", ["99999999999999999", "-99999999999999999", "99999999999999999.9", "9300000000000000"])
def test_just_below_1e17_is_microseconds_so_beyond_2262(text):
    # 99999999999999999 us is 9.99e19 ns, past int64; read as ns it would be a date in 1973.
    with pytest.raises(ValueError, match="1677-2262"):
        parse_timestamp(text)


@pytest.mark.parametrize(
    "text, expected_ns",
    [
        ("9000000000000000", 9_000_000_000_000_000_000),  # the largest microseconds still in int64
        ("100000000000000000", 100_000_000_000_000_000),  # 1e17 and above: nanoseconds
        ("100000000000000001", 100_000_000_000_000_001),
        ("-100000000000000000", -100_000_000_000_000_000),
        ("100000000000000000.4", 100_000_000_000_000_000),
    ],
)
def test_epoch_numbers_at_the_microsecond_nanosecond_boundary(text, expected_ns):
    assert parse_timestamp(text) == expected_ns


# Seconds only (OpenMetrics): no unit by magnitude, no dates

@pytest.mark.parametrize(
    "text, expected_ns",
    [
        ("1700000000000", None),  # milliseconds are not guessed: 1.7e12 s is past 2262
        ("1700000000.5", 1_700_000_000_500_000_000),
        ("1.7e9", 1_700_000_000_000_000_000),
        ("-1", -1_000_000_000),
        (".5", 500_000_000),
        ("5.", 5_000_000_000),
        ("0.0000000015", 2),  # half a nanosecond: rounded half to even
        ("-9223372036.854775808", -(2**63)),
        ("9223372036.854775807", 2**63 - 1),
        ("9223372036.854775808", None),
        ("2023-10-12T14:30:00Z", None),
        ("NaN", None),
        ("1e99999999999999999999", None),
    ],
)
def test_parse_seconds(text, expected_ns):
    if expected_ns is None:
        with pytest.raises(ValueError):
            parse_seconds(text)
    else:
        assert parse_seconds(text) == expected_ns
