"""squeeze.py query: every aggregate per window, from a roll-up level or the raw points, against a
naive pure-Python computation from the definitions (lib/rollup/kinds.py); the level it picks; and
one line with exit code 2 for every question that cannot be asked."""
import json
import math
import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from lib.codecs.registry import TIMESTAMP_SHARED
from lib.codecs.shared_timestamps import decode_shared
from lib.data.dataset import MINUTE_NS, NS_PER_SECOND, Series
from lib.retention.policy import RetentionPolicy
from lib.rollup.kinds import COUNTER, DERIVED_AGGREGATES, GAUGE, QUANTILES, STORED_FIELDS
from lib.rollup.sketch import SKETCH_ALPHA
from lib.storage.metrics_file import MetricsFile
from lib.storage.streaming_writer import write_file
from lib.tool.query import RAW, run_query
from lib.tool.rollups import build_rollups, default_folder
from tests.test_tool import assert_one_line_error, squeeze

T0 = 1_700_000_000 * NS_PER_SECOND - 1_700_000_000 * NS_PER_SECOND % (3600 * NS_PER_SECOND)  # on the hour
POLICY = RetentionPolicy.parse("raw=7d,1m=30d,5m=1y,1h=7y")
HOURS = 3


def brute(pairs, kind, aggregate, starts, ends, bucket=None):
    """The aggregate per window, from the points one by one (Python's sort is stable). With `bucket`
    (a level's width), sums are first rounded per bucket, as a level stores them."""
    points = sorted(pairs, key=lambda p: p[0])
    deltas, previous = [], None
    for t, v in points:
        if math.isnan(v):
            continue
        if previous is not None:
            deltas.append((t, v - previous if v >= previous else v))
        previous = v
    result = []
    for start, end in zip(starts.tolist(), ends.tolist()):
        inside = [v for t, v in points if start <= t < end]
        real = [v for v in inside if not math.isnan(v)]
        window_deltas = [(t, d) for t, d in deltas if start <= t < end]
        result.append(window_value(aggregate, kind, inside, real, window_deltas, (end - start) / NS_PER_SECOND,
                                   [(t, v) for t, v in points if start <= t < end and not math.isnan(v)], bucket))
    return result


def exact_sum(values):
    if any(math.isnan(v) for v in values) or (math.inf in values and -math.inf in values):
        return math.nan
    if math.inf in values or -math.inf in values:
        return math.inf if math.inf in values else -math.inf
    return math.fsum(values)


def bucketed_sum(timed, bucket):
    """Each bucket's exact sum rounded once, then those added exactly: what a level's sum gives."""
    if bucket is None:
        return exact_sum([v for _, v in timed])
    groups = {}
    for t, v in timed:
        groups.setdefault(t // bucket, []).append(v)
    return exact_sum([exact_sum(vs) for vs in groups.values()])


def window_value(aggregate, kind, inside, real, deltas, seconds, timed_real, bucket):
    finite = sorted(v for v in real if math.isfinite(v))
    if aggregate == "count":
        return float(len(real))
    if aggregate == "nan_count":
        return float(len(inside) - len(real))
    if aggregate in ("sum", "avg"):
        total = bucketed_sum(timed_real, bucket)
        return total if aggregate == "sum" else (total / len(real) if real else math.nan)
    if aggregate in ("increase", "rate"):
        total = bucketed_sum(deltas, bucket) if all(math.isfinite(d) for _, d in deltas) else math.nan
        return total if aggregate == "increase" else total / seconds
    if aggregate in ("min", "max"):
        return (min(real) if aggregate == "min" else max(real)) + 0.0 if real else math.nan
    if aggregate in ("first", "last"):
        return (real[0] if aggregate == "first" else real[-1]) if real else math.nan
    return finite[math.floor(QUANTILES[aggregate] * (len(finite) - 1))] if finite else math.nan


def same(answer, expected, aggregate, source):
    answer, expected = float(answer), float(expected)
    if math.isnan(expected):
        return math.isnan(answer)
    if aggregate in QUANTILES and source != RAW:
        return abs(answer - expected) <= SKETCH_ALPHA * abs(expected) * (1 + 1e-9)
    return np.float64(answer).view(np.uint64) == np.float64(expected).view(np.uint64)


seconds = st.integers(0, HOURS * 3600 - 1)
gauge_values = st.one_of(st.integers(-50, 50).map(float), st.sampled_from([0.1, -0.0, 2.5e-3, 1e6, math.nan, math.inf]))
counter_values = st.one_of(st.integers(0, 1000).map(float), st.just(math.nan))


@st.composite
def windows_of(draw):
    """(from, to, step) in seconds from T0: aligned to the levels or not."""
    unit = draw(st.sampled_from([1, 60, 300, 3600]))
    start = draw(st.integers(0, HOURS * 3600 // unit - 1)) * unit
    end = draw(st.integers(start // unit + 1, HOURS * 3600 // unit)) * unit
    steps = [s for s in (unit, 2 * unit, 3600) if (end - start) / s <= 200]
    return start, end, draw(st.sampled_from([None] + steps))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.booleans(), st.data(), windows_of())
def test_every_aggregate_per_window_is_the_naive_answer(tmp_path_factory, counter, data, window):
    values = counter_values if counter else gauge_values
    pairs = data.draw(st.lists(st.tuples(seconds.map(lambda s: T0 + s * NS_PER_SECOND), values), min_size=1,
                               max_size=80))
    name, kind = ("requests_total", COUNTER) if counter else ("cpu", GAUGE)
    folder = tmp_path_factory.mktemp("q")
    write_file(folder / "m.bin", [Series(name, {"host": "a"}, [t for t, _ in pairs], [v for _, v in pairs])],
               block_points=16)
    build_rollups(folder / "m.bin", policy=POLICY)
    start, end = (T0 + x * NS_PER_SECOND for x in window[:2])
    step_ns = None if window[2] is None else window[2] * NS_PER_SECOND
    for aggregate in STORED_FIELDS[kind] + DERIVED_AGGREGATES[kind]:
        answer = run_query(folder / "m.bin", None, name, [("host", "a")], str(start), str(end), aggregate, step_ns)
        bucket = None if answer.source == RAW else {"1m": MINUTE_NS, "5m": 5 * MINUTE_NS, "1h": 60 * MINUTE_NS}[answer.source]
        expected = brute(pairs, kind, aggregate, answer.starts, answer.ends, bucket)
        assert answer.starts[0] == start and answer.ends[-1] == end
        assert all(same(a, e, aggregate, answer.source) for a, e in zip(answer.values, expected)), (
            aggregate, answer.source, list(answer.values), expected)


def hourly_file(tmp_path, rollups=True):
    """cpu{host=a|b} every 15 s and requests_total{host=a} every 10 s for three hours from T0."""
    times = T0 + 15 * NS_PER_SECOND * np.arange(720)
    series = [Series("cpu", {"host": h}, times, np.round(np.sin(np.arange(720) / 9) * 40 + 50, 2)) for h in "ab"]
    series.append(Series("requests_total", {"host": "a"}, T0 + 10 * NS_PER_SECOND * np.arange(1080),
                         np.arange(1080) % 500 * 2.0))
    write_file(tmp_path / "m.bin", series)
    if rollups:
        build_rollups(tmp_path / "m.bin", policy=POLICY)
    return tmp_path / "m.bin"


@pytest.mark.parametrize("start,end,step,aggregate,source", [
    ("-3h", "end", "1h", "max", "1h"),
    ("-3h", "end", "30m", "max", "5m"),
    ("-3h", "end", "1h", "p99", "1h"),
    ("-3h", "-1m", "1h", "max", "1m"),
    ("-3h", "-1m", "1h", "p99", "raw"),  # the 1-minute level is light: no sketch
    ("-3h", "-7s", None, "min", "raw"),
])
def test_the_coarsest_level_that_answers_is_read(tmp_path, capsys, start, end, step, aggregate, source):
    path = hourly_file(tmp_path)
    arguments = ["query", path, "--metric", "cpu", "--label", "host=a", "--from", start, "--to", end, "--agg",
                 aggregate, "--json"] + (["--step", step] if step else [])
    code, out, err = squeeze(capsys, *arguments)
    assert code == 0, err
    answer = json.loads(out)
    assert answer["source"] == source and answer["bytes_read"] > 0
    assert answer["accuracy"] == ("within 1% (DDSketch)" if aggregate == "p99" and source != "raw" else "exact")


def test_csv_rows_and_the_note_on_stderr(tmp_path, capsys):
    path = hourly_file(tmp_path)
    code, out, err = squeeze(capsys, "query", path, "--metric", "requests_total", "--from", "-3h", "--to", "end",
                             "--step", "1h")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "start,end,rate" and len(lines) == 4
    assert lines[1].startswith("2023-11-14T22:00:00Z,2023-11-14T23:00:00Z,")
    assert 'requests_total{host="a"}: rate per window from the 1h roll-up level (05_rollup_1h.bin)' in err
    assert "bytes read" in err


def test_a_query_reads_the_indexes_and_only_the_blocks_of_the_columns_it_needs(tmp_path):
    path = hourly_file(tmp_path)
    answer = run_query(path, None, "cpu", [("host", "a")], "-3h", "end", "max", 3600 * NS_PER_SECOND)
    assert answer.source == "1h"
    files = [path] + sorted(default_folder(path).glob("05_rollup_*.bin"))
    indexes = 0
    for file in files:
        with MetricsFile(file) as f:
            indexes += f.layout.overhead
            if file.name == "05_rollup_1h.bin":
                (column,) = [e for e in f.series if e.labels == {"host": "a", "__rollup__": "max", "__resolution__": "1h"}]
                blocks = sum(b.length + referred_block_length(f, column, n) for n, b in enumerate(column.blocks))
    assert answer.bytes_read == indexes + blocks


def referred_block_length(metrics_file, entry, number):
    """The length of the block whose timestamps this block refers to (shared timestamps), else 0:
    a query reads that block too."""
    block = entry.blocks[number]
    metrics_file.file.seek(metrics_file.data_offset + block.offset)
    data = metrics_file.file.read(block.length)
    if data[4] != TIMESTAMP_SHARED:
        return 0
    (timestamp_length,) = struct.unpack_from("<I", data, 6)
    referred = decode_shared(data[10:10 + timestamp_length], block.points).block
    in_file_order = sorted(b.offset for e in metrics_file.series for b in e.blocks)
    offset = in_file_order[referred]
    return next(b.length for e in metrics_file.series for b in e.blocks if b.offset == offset)


def test_without_roll_ups_the_raw_points_answer(tmp_path, capsys):
    path = hourly_file(tmp_path, rollups=False)
    code, out, err = squeeze(capsys, "query", path, "--metric", "cpu", "--label", "host=b", "--from", "-1h",
                             "--to", "end", "--agg", "p50")
    assert code == 0 and "from the raw points" in err and len(out.splitlines()) == 2


@pytest.mark.parametrize("arguments,words", [
    (["--metric", "memory"], ["no series matches memory{}", "its metrics: cpu, requests_total"]),
    (["--metric", "cpu"], ["2 series match cpu{}", "add --label"]),
    (["--metric", "requests_total", "--agg", "max"], ["is a counter", "max is not one of its aggregates",
                                                     "increase, rate"]),
    (["--metric", "requests_total", "--from", "end", "--to", "-1h"], ["empty time range"]),
    (["--metric", "requests_total", "--from", "yesterday"], ["--from 'yesterday'", "-7d"]),
    (["--metric", "requests_total", "--step", "1s", "--from", "2000-01-01"], ["windows", "longer --step"]),
    (["--metric", "requests_total", "--step", "fortnight"], ["--step", "duration"]),
    (["--metric", "requests_total", "--label", "host"], ["--label", "host=a"]),
    (["--metric", "requests_total", "--agg", "median"], ["--agg", "invalid choice"]),
    (["--metric", "requests_total", "--rollups", "nowhere"], ["nowhere", "no such folder"]),
])
def test_questions_that_cannot_be_asked_are_one_line(tmp_path, capsys, monkeypatch, arguments, words):
    path = hourly_file(tmp_path)
    monkeypatch.chdir(tmp_path)
    base = {"--from": "-1h", "--to": "end"}
    for option, value in base.items():
        if option not in arguments:
            arguments = arguments + [option, value]
    assert_one_line_error(squeeze(capsys, "query", path, *arguments), *words)


def test_roll_ups_of_another_version_of_the_file_are_refused(tmp_path, capsys):
    path = hourly_file(tmp_path)
    write_file(path, [Series("cpu", {"host": "a"}, [T0], [1.0])])
    assert_one_line_error(squeeze(capsys, "query", path, "--metric", "cpu", "--from", "-1h", "--to", "end"),
                          "another version", "squeeze.py rollup")


def test_a_damaged_file_is_refused_in_one_line(tmp_path, capsys):
    path = hourly_file(tmp_path, rollups=False)
    data = bytearray(path.read_bytes())
    data[-30] ^= 0xFF  # inside the index section
    path.write_bytes(bytes(data))
    assert_one_line_error(squeeze(capsys, "query", path, "--metric", "cpu", "--from", "-1h", "--to", "end"),
                          "m.bin")


def test_a_range_reaching_the_int64_limits_is_answered_and_one_beyond_them_refused(tmp_path, capsys):
    limit = 2**63
    write_file(tmp_path / "m.bin", [Series("m", {}, [-limit, -1, 0, limit - 1], [1.0, 2.0, 4.0, 8.0])])
    code, out, err = squeeze(capsys, "query", tmp_path / "m.bin", "--metric", "m", "--from",
                             "1677-09-21T00:12:43.145224192Z", "--to", "end", "--agg", "sum", "--json")
    assert code == 0, err
    (row,) = json.loads(out)["rows"]
    assert (row["start_ns"], row["end_ns"], row["value"]) == (-limit, limit - 1, 7.0)  # the last ns is past "end"
    assert_one_line_error(squeeze(capsys, "query", tmp_path / "m.bin", "--metric", "m", "--from", "-1000y",
                                  "--to", "end"), "outside the years 1677-2262")


def test_roll_ups_that_do_not_say_which_file_they_are_of_are_refused(tmp_path, capsys):
    path = hourly_file(tmp_path)
    (default_folder(path) / "source.json").unlink()
    assert_one_line_error(squeeze(capsys, "query", path, "--metric", "cpu", "--label", "host=a", "--from", "-1h",
                                  "--to", "end"), "no readable source.json", "squeeze.py rollup")
