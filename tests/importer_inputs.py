"""Inputs for the importer tests (tests/test_importers*.py): files written as given, and what the
imported series are, by name and by bit pattern.

Each test writes its fixture files into tmp_path. Expected nanoseconds are worked out by hand
(e.g. 2023-10-12T14:30:00Z is 19642 days * 86400 s + 14.5 h = 1697121000 s after the epoch), and
values are compared by their float64 bit patterns, so a NaN, a -0.0 or a last-bit rounding
difference cannot hide.
"""
import json
import tracemalloc

import numpy as np
import pytest

from lib.data.dataset import float_bits
from lib.data.importers import import_paths
from lib.errors import FormatError

T0 = 1_700_000_000  # 2023-11-14T22:13:20Z, in seconds
T0_NS = T0 * 10**9


def write(folder, name, content):
    """Write exactly these characters (or bytes): no newline translation, so CRLF stays CRLF."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_bytes(content.encode("utf-8"))
    return path


def by_name(result):
    return {s.display_name(): s for s in result.series}


def bits(values):
    return [int(b) for b in float_bits(np.asarray(values, dtype=np.float64))]


def prometheus_response(result, result_type="matrix"):
    return json.dumps({"status": "success", "data": {"resultType": result_type, "result": result}})


LINE_PROTOCOL = "cpu,host=a usage=1.5 1700000000000000000\n"
PROMETHEUS = prometheus_response([{"metric": {"__name__": "up"}, "values": [[1700000000, "1"]]}])


def import_error(paths, match, fmt=None):
    """The message of the FormatError that importing `paths` must raise (`match` is searched in it
    as a regular expression, as pytest.raises does)."""
    with pytest.raises(FormatError, match=match) as caught:
        import_paths(paths, fmt)
    return str(caught.value)


def traced_peak_bytes(function):
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
