"""Regression tests for the defects an adversarial pass found (issue 13): huge sizes, special
files, concurrent runs, misleading messages."""
import os

import pytest

from lib import data_generator
from tests.conftest import run_script


def assert_one_line_error(result, *fragments):
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.mark.parametrize("script, args, limit", [
    ("00_generate_data.py", ["--points", "99999999999999999999999"], data_generator.MAX_POINTS),
    ("main.py", ["--series", "1", "--points", "10000000000"], data_generator.MAX_POINTS),
    ("main.py", ["--series", "99999999999999999999999"], data_generator.MAX_SERIES),
    ("main.py", ["--series", "100000000", "--points", "10"], data_generator.MAX_SERIES),
    ("00_generate_data.py", ["--seed", "-1"], "--seed must be 0 or more"),
])
def test_huge_sizes_are_refused_up_front_naming_the_limit(tmp_path, script, args, limit):
    result = run_script(script, "--output-dir", tmp_path, *args, timeout=30)
    assert_one_line_error(result, limit if isinstance(limit, str) else f"{limit:,}")
    assert not (tmp_path / "00_dataset.bin").exists()


def test_the_big_size_stays_within_the_limits():
    series, points = data_generator.SIZES["big"]
    data_generator.check_sizes(series, points)
    with pytest.raises(ValueError, match="at most"):
        data_generator.check_sizes(series, data_generator.MAX_POINTS + 1)
    with pytest.raises(ValueError, match="at most"):
        data_generator.check_sizes(data_generator.MAX_SERIES + 1, points)
    with pytest.raises(ValueError, match="at most"):
        data_generator.generate_dataset(data_generator.MAX_SERIES + 1, 10)
