"""Values from text (lib/data/importers/fields.py), compared by their float64 bit patterns."""
import pytest

from lib.data.importers import parse_value
from tests.importer_inputs import bits


@pytest.mark.parametrize(
    "text, expected_bits",
    [
        ("0.1", 0x3FB999999999999A),
        ("1.5", 0x3FF8000000000000),
        ("-0.0", 0x8000000000000000),
        ("0", 0x0000000000000000),
        ("5e-324", 0x0000000000000001),  # the smallest subnormal
        ("1.7976931348623157e308", 0x7FEFFFFFFFFFFFFF),  # the largest finite double
        ("NaN", 0x7FF8000000000000),
        ("nan", 0x7FF8000000000000),
        ("+Inf", 0x7FF0000000000000),
        ("Inf", 0x7FF0000000000000),
        ("inf", 0x7FF0000000000000),
        ("-Inf", 0xFFF0000000000000),
        ("1e3", 0x408F400000000000),
    ],
)
def test_values_parse_bit_exactly(text, expected_bits):
    assert bits([parse_value(text)]) == [expected_bits]


@pytest.mark.parametrize("text", ["", "abc", "1,5", "1_000", "0x10",
                                  "\u0661", "\u0661.5", "\uff11", "\u00a01.5", "1\u2003"])
def test_unparseable_values_are_refused(text):
    with pytest.raises(ValueError):
        parse_value(text)
