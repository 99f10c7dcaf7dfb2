"""squeeze.py compress, inspect and rollup: what they write and print, and one line with exit code 2
for every bad input (query: tests/test_tool_query.py; export: tests/test_tool_export.py)."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from lib.data.dataset import PROJECT_ROOT, Series, assert_identical
from lib.data.importers import import_paths
from lib.rollup.levels import rollup_dataset
from lib.storage.metrics_file import MetricsFile, read_file
from lib.storage.rollup_files import read_rollups, rollup_filename
from lib.storage.streaming_writer import write_file
from lib.tool.cli import main
from lib.tool.rollups import SOURCE_FILENAME, default_folder
from tests.conftest import awkward_dataset

T0 = 1_700_000_000  # seconds


def squeeze(capsys, *argv):
    """(exit code, stdout, stderr) of `squeeze.py argv...`, run in this process."""
    try:
        main([str(a) for a in argv])
        code = 0
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(result, *words):
    code, out, err = result
    assert code == 2 and out == "", (code, out, err)
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: "), err
    assert "Traceback" not in err
    for word in words:
        assert word in err, err


def long_csv(path, hosts=3, points=50, bad_line=None):
    lines = ["timestamp,metric,host,value"]
    for i in range(points):
        for h in range(hosts):
            lines.append(f"{T0 + 15 * i},cpu,h{h},{(i * 3 + h) % 17 / 4}")
            lines.append(f"{T0 + 15 * i},requests_total,h{h},{i * 10 + h}")
    if bad_line is not None:
        lines.insert(bad_line, f"{T0},cpu,h0,not-a-number")
    path.write_text("\n".join(lines) + "\n")
    return path


# compress ---------------------------------------------------------------------------------------------


def test_compress_writes_what_the_importers_read_and_prints_one_summary_line(tmp_path, capsys):
    source = long_csv(tmp_path / "in.csv")
    code, out, err = squeeze(capsys, "compress", source, tmp_path / "out.bin", "--block-points", "7",
                             "--memory-budget", "1K")
    assert code == 0, err
    assert_identical(import_paths([source]).series, read_file(tmp_path / "out.bin"))
    size = (tmp_path / "out.bin").stat().st_size
    assert out == f"300 points in 6 series: {size:,} bytes, {size / 300:.3f} bytes/point ({tmp_path / 'out.bin'})\n"
    with MetricsFile(tmp_path / "out.bin") as f:
        assert f.block_points == 7 and max(b.points for e in f.series for b in e.blocks) <= 7


def test_compress_warns_about_disordered_series_and_keeps_them(tmp_path, capsys):
    (tmp_path / "in.csv").write_text(f"timestamp,metric,value\n{T0 + 30},m,1\n{T0},m,2\n{T0},m,3\n")
    code, _, err = squeeze(capsys, "compress", tmp_path / "in.csv", tmp_path / "out.bin")
    assert code == 0 and "warning: m{}: 1 timestamps equal to the one before and 1 earlier" in err
    assert read_file(tmp_path / "out.bin")[0].timestamps.tolist() == [10**9 * (T0 + 30), 10**9 * T0, 10**9 * T0]


@pytest.mark.parametrize("arguments,words", [
    (["compress", "missing.csv", "out.bin"], ["missing.csv", "no such file"]),
    (["compress", "bad.csv", "out.bin"], ["bad.csv:4", "not-a-number"]),
    (["compress", "bad.csv", "bad.csv"], ["would replace an input"]),
    (["compress", "empty.csv", "out.bin"], ["no data points"]),
    (["compress", "bad.csv", "out.bin", "--block-points", "0"], ["--block-points", "1 to 65535"]),
    (["compress", "bad.csv", "out.bin", "--memory-budget", "lots"], ["--memory-budget", "64M"]),
    (["compress", "bad.csv", "out.bin", "--format", "xml"], ["--format", "invalid choice"]),
    (["compress", "out.bin"], ["compress", "required"]),
    (["compress", "bad.csv", "folder"], ["folder"]),
])
def test_compress_refuses_bad_input_in_one_line_and_leaves_no_file(tmp_path, capsys, monkeypatch, arguments, words):
    monkeypatch.chdir(tmp_path)
    long_csv(tmp_path / "bad.csv", bad_line=3)
    (tmp_path / "empty.csv").write_text("timestamp,metric,value\n")
    (tmp_path / "folder").mkdir()
    assert_one_line_error(squeeze(capsys, *arguments), *words)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv", "empty.csv", "folder"]
    assert list((tmp_path / "folder").iterdir()) == []


def test_the_tool_runs_from_any_folder(tmp_path):
    source = long_csv(tmp_path / "in.csv")
    result = subprocess.run([sys.executable, str(PROJECT_ROOT / "squeeze.py"), "compress", "in.csv", "out.bin"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=60,
                            env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    assert result.returncode == 0, result.stderr
    assert_identical(import_paths([source]).series, read_file(tmp_path / "out.bin"))


# inspect ----------------------------------------------------------------------------------------------


def test_inspect_counts_what_the_index_and_block_headers_say(tmp_path, capsys):
    series = [Series("cpu", {"host": f"h{h}", "dc": "x"}, np.arange(100) * 10**9, np.round(np.arange(100) / 7, 2))
              for h in range(4)] + [Series("up", {"host": "h0"}, np.arange(30) * 10**9, np.ones(30))]
    write_file(tmp_path / "m.bin", series, block_points=40)
    code, out, _ = squeeze(capsys, "inspect", tmp_path / "m.bin", "--json")
    described = json.loads(out)
    assert code == 0
    assert (described["version"], described["series"], described["points"], described["blocks"]) == (4, 5, 430, 13)
    assert described["bytes"] == (tmp_path / "m.bin").stat().st_size
    assert (described["start_ns"], described["end_ns"]) == (0, 99 * 10**9)
    groups = {g["name"]: g for g in described["groups"]}
    assert (groups["cpu"]["series"], groups["cpu"]["points"], groups["cpu"]["blocks"]) == (4, 400, 12)
    assert groups["up"]["value_codecs"] == {"constant": 30}
    stream_bytes = sum(g["timestamp_bytes"] + g["value_bytes"] for g in described["groups"])
    assert stream_bytes + described["block_framing_bytes"] + described["layout_bytes"] == described["bytes"]
    assert described["labels"] == [{"label": "host", "values": 4, "series": 5}, {"label": "dc", "values": 1, "series": 4}]
    code, text, _ = squeeze(capsys, "inspect", tmp_path / "m.bin")
    assert "host has the most values (4)" in text and "constant 100%" in text


def test_inspect_names_a_roll_up_files_resolution_and_columns(tmp_path, capsys):
    write_file(tmp_path / "m.bin", [Series("cpu", {}, np.arange(600) * 10**9, np.arange(600) % 7 * 1.0),
                                    Series("n_total", {}, np.arange(600) * 10**9, np.arange(600) * 2.0)])
    assert squeeze(capsys, "rollup", tmp_path / "m.bin")[0] == 0
    code, out, _ = squeeze(capsys, "inspect", default_folder(tmp_path / "m.bin") / "05_rollup_5m.bin", "--json")
    rollup = json.loads(out)["rollup"]
    assert rollup["resolution"] == "5m" and rollup["series"] == 2
    assert rollup["kinds"]["gauge"]["columns"] == ["count", "nan_count", "sum", "min", "max", "first", "last"]
    assert rollup["kinds"]["gauge"]["sketch"] and rollup["kinds"]["counter"]["buckets"] == 2


@pytest.mark.parametrize("damage,words", [
    (lambda data: data[:-1], ["footer"]),
    (lambda data: b"NOTMETRI" + data[8:], ["not a METRICS! file"]),
    (lambda data: data[:16] + bytes([data[16] ^ 1]) + data[17:], ["block 0", "disagrees with the index"]),
])
def test_inspect_refuses_a_damaged_file_in_one_line(tmp_path, capsys, small_file, damage, words):
    # the third case flips the point count of the first block, in the header that inspect reads
    (tmp_path / "bad.bin").write_bytes(damage(small_file[0].read_bytes()))
    assert_one_line_error(squeeze(capsys, "inspect", tmp_path / "bad.bin"), *words)


def test_inspect_refuses_a_missing_file(tmp_path, capsys):
    assert_one_line_error(squeeze(capsys, "inspect", tmp_path / "none.bin"), "none.bin")


# rollup -----------------------------------------------------------------------------------------------


def test_rollup_writes_phase_5s_levels_of_every_series(tmp_path, capsys):
    series = [Series("cpu", {"host": "a"}, 10**9 * (T0 + 15 * np.arange(900)), np.round(np.sin(np.arange(900)), 2)),
              Series("req_total", {}, 10**9 * (T0 + 10 * np.arange(1500)), np.arange(1500) % 400 * 3.0),
              Series("idle", {}, [], [])]
    write_file(tmp_path / "m.bin", series)
    code, out, _ = squeeze(capsys, "rollup", tmp_path / "m.bin", "--out", tmp_path / "r", "--retention",
                           "raw=1d,5m=7d,1h=30d")
    assert code == 0 and "05_rollup_5m.bin" in out and "05_rollup_1h.bin" in out
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == ["05_rollup_1h.bin", "05_rollup_5m.bin", SOURCE_FILENAME]
    expected = rollup_dataset(read_file(tmp_path / "m.bin"), (300 * 10**9, 3600 * 10**9))
    for resolution, rollups in expected.items():
        stored = {(r.name, tuple(sorted(r.labels.items()))): r
                  for r in read_rollups(tmp_path / "r" / rollup_filename(resolution), resolution)}
        for rollup in rollups:
            back = stored[(rollup.name, tuple(sorted(rollup.labels.items())))]
            assert np.array_equal(back.bucket_start, rollup.bucket_start)
            for field, values in rollup.fields.items():
                assert back.fields[field].tobytes() == values.tobytes(), field


def test_rollup_makes_the_one_minute_level_light_and_removes_levels_of_an_earlier_policy(tmp_path, capsys):
    write_file(tmp_path / "m.bin", [Series("cpu", {}, 10**9 * (T0 + 15 * np.arange(300)), np.arange(300) * 0.5)])
    assert squeeze(capsys, "rollup", tmp_path / "m.bin")[0] == 0
    folder = default_folder(tmp_path / "m.bin")
    light = read_rollups(folder / "05_rollup_1m.bin", 60 * 10**9)[0]
    assert set(light.fields) == {"count", "sum", "min", "max"} and light.sketch is None
    assert squeeze(capsys, "rollup", tmp_path / "m.bin", "--retention", "raw=1d,5m=7d")[0] == 0
    assert sorted(p.name for p in folder.iterdir()) == ["05_rollup_5m.bin", SOURCE_FILENAME]


@pytest.mark.parametrize("arguments,words", [
    (["rollup", "none.bin"], ["none.bin"]),
    (["rollup", "m.bin", "--retention", "raw=7d,1m"], ["--retention", "RESOLUTION=HORIZON"]),
    (["rollup", "m.bin", "--retention", "raw=7d,7m=30d,5m=1y"], ["--retention"]),
    (["rollup", "m.bin", "--retention", "raw=7d,2m=30d,5m=1y"], ["not a larger multiple"]),
    (["rollup", "reserved.bin"], ["reserved for roll-up files"]),
    (["rollup", "m.bin", "--out", "m.bin"], ["m.bin"]),
])
def test_rollup_refuses_bad_input_in_one_line(tmp_path, capsys, monkeypatch, arguments, words):
    monkeypatch.chdir(tmp_path)
    write_file(tmp_path / "m.bin", awkward_dataset()[2:4])
    write_file(tmp_path / "reserved.bin", [Series("m", {"__rollup__": "max"}, [1], [1.0])])
    before = sorted(p.name for p in tmp_path.iterdir())
    assert_one_line_error(squeeze(capsys, *arguments), *words)
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_no_command_or_an_unknown_one_is_one_line(capsys):
    assert_one_line_error(squeeze(capsys), "required")
    assert_one_line_error(squeeze(capsys, "squash"), "invalid choice")
