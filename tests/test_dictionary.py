"""lib/codecs/dictionary.py: few distinct values, each repeated often."""
import numpy as np
import pytest

from lib.codecs.registry import CONSTANT, DICTIONARY, decode_values_tagged
from lib.errors import FormatError
from tests.value_checks import round_trip


RNG = np.random.default_rng(11)


def test_few_distinct_values_become_a_dictionary():
    levels = np.array([33.3333, 33.4447, 33.446, 33.4427, 33.554, 100.0])
    values = levels[RNG.choice(6, 4000, p=[0.5, 0.2, 0.1, 0.1, 0.05, 0.05])]
    tag, blob = round_trip(values)
    assert tag == DICTIONARY
    assert 8 * len(blob) < 2.5 * values.size  # close to the 2.1-bit exhaustive of the choice


def test_dictionary_entries_cannot_be_a_dictionary_or_claim_too_much():
    with pytest.raises(FormatError):
        decode_values_tagged(DICTIONARY, bytes([1, DICTIONARY, 0]), 4)
    with pytest.raises(FormatError):
        decode_values_tagged(DICTIONARY, bytes([9, CONSTANT, 8]) + bytes(8), 4)  # 9 entries, 4 points


