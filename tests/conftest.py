"""Shared fixtures: awkward datasets, a way to load the numbered scripts, and a subprocess runner."""
import subprocess
import sys
import tracemalloc
from contextlib import contextmanager
from functools import lru_cache

import numpy as np
import pytest
from hypothesis import strategies as st

from lib.codecs import limits
from lib.data.dataset import PROJECT_ROOT, Series, canonical_order, save_dataset
from lib.data.generator import generate_dataset
from lib.runner.phases import load_script
from lib.storage.streaming_writer import write_file

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
int64s = st.integers(INT64_MIN, INT64_MAX)


def floats_from_bits(*bit_patterns):
    return np.array(bit_patterns, dtype=np.uint64).view(np.float64)


AWKWARD_VALUES = floats_from_bits(
    0x7FF8000000000000,  # the usual quiet NaN
    0x7FF8000000000001,  # quiet NaN with a payload
    0xFFF8000000000000,  # negative NaN
    0x7FF0000000000001,  # signalling NaN
    0x8000000000000000,  # -0.0
    0x0000000000000000,  # 0.0
    0x7FF0000000000000,  # +inf
    0xFFF0000000000000,  # -inf
    0x0000000000000001,  # smallest subnormal
    0x000FFFFFFFFFFFFF,  # largest subnormal
    0x7FEFFFFFFFFFFFFF,  # largest finite
    0x3FB999999999999A,  # 0.1
)


def awkward_dataset():
    """Series that break careless codecs: special floats, int64 extremes, 0/1/2 points, odd labels."""
    n = len(AWKWARD_VALUES)
    return canonical_order([
        Series("special_values", {"kind": "floats"}, np.arange(n, dtype=np.int64) * 15_000_000_000, AWKWARD_VALUES),
        Series("extreme_timestamps", {}, [INT64_MIN, INT64_MAX, 0, -1, INT64_MIN], [1.0, 2.0, 3.0, 4.0, 5.0]),
        Series("decreasing_and_equal", {"host": "a"}, [30, 20, 20, 20, 10, 10], [1.5] * 6),
        Series("empty", {"host": "nobody"}, [], []),
        Series("one_point", {"quote": 'say "hi"', "unicode": "Zürich ✓"}, [1_700_000_000_000_000_000], [-0.0]),
        Series("two_points", {"host": "b"}, [5, 7], [np.inf, -np.inf]),
    ])


@pytest.fixture
def awkward_output_dir(tmp_path):
    """An output folder whose dataset is the awkward one."""
    save_dataset(awkward_dataset(), tmp_path / "00_dataset.bin")
    return tmp_path


@lru_cache(maxsize=None)
def phase_module(filename):
    return load_script(filename)


def run_script(*args, timeout=300):
    """Run a project script as a user would; returns the CompletedProcess."""
    return subprocess.run(
        [sys.executable, *map(str, args)], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=timeout,
    )


@pytest.fixture(scope="module")
def small_file(tmp_path_factory):
    """A METRICS! file of 6 generated series in blocks of 100 points, and its series."""
    series_list = generate_dataset(6, 3_000, seed=3)
    path = tmp_path_factory.mktemp("bf") / "m.bin"
    write_file(path, series_list, block_points=100)
    return path, series_list


def traced_peak(call):
    """(what `call()` returns, the most memory it held at once in bytes, as tracemalloc counts it:
    numpy reports its arrays there). Measured, never timed."""
    tracemalloc.start()
    try:
        start, _ = tracemalloc.get_traced_memory()
        result = call()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak - start


@contextmanager
def small_slices(size=3):
    """Decoders work through long arrays in slices (lib/codecs/limits.py); with slices of a few
    values, short test arrays take the many-slice paths too."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(limits, "SLICE_VALUES", size)
        yield


MEMORY_COUNT = 1 << 19  # values per decode in the memory tests: 4 MiB of result, 8 slices of SLICE_VALUES


def assert_decodes_within(call, result_bytes, input_bytes, results=3):
    """`call()`, a decode, holds at most `results` times the bytes of its result at once, plus what
    its input needs (16 bytes a byte: its bits unpacked, a padded copy) and the temporaries of a few
    slices, which do not grow with the count. Returns what the call returned."""
    result, peak = traced_peak(call)
    bound = results * result_bytes + 16 * input_bytes + 8 * 8 * limits.SLICE_VALUES
    assert peak <= bound, f"peaked at {peak / 2**20:.1f} MiB, more than {bound / 2**20:.1f} MiB"
    return result
