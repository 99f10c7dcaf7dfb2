"""squeeze.py export: import, export, import gives the same dataset bit for bit for every format that
can carry it (the datasets each format can carry: tests/test_exporters.py); a format that cannot is
refused in one line and writes nothing."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from lib.data.dataset import Series, assert_identical, float_bits
from lib.data.exporters import FORMATS, export_file
from lib.storage.metrics_file import read_file
from lib.storage.streaming_writer import write_file
from tests.test_exporters import CARRIABLE, SUFFIXES
from tests.test_tool import assert_one_line_error, squeeze


@pytest.mark.parametrize("fmt", FORMATS)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_import_export_import_gives_the_same_dataset(tmp_path_factory, capsys, fmt, data):
    series_list = data.draw(CARRIABLE[fmt])
    folder = tmp_path_factory.mktemp("trip")
    first = folder / f"first{SUFFIXES[fmt]}"
    export_file(series_list, fmt, first)  # an export, as a user would bring one
    assert squeeze(capsys, "compress", first, folder / "a.bin", "--format", fmt)[0] == 0
    imported = read_file(folder / "a.bin")
    chosen = ["--metric", imported[0].name, *[x for k, v in imported[0].labels.items() for x in ("--label", f"{k}={v}")]]
    code, _, err = squeeze(capsys, "export", folder / "a.bin", "--format", fmt, "--out", folder / f"second{SUFFIXES[fmt]}",
                           *(chosen if fmt == "csv" else []))
    assert code == 0, err
    assert squeeze(capsys, "compress", folder / f"second{SUFFIXES[fmt]}", folder / "b.bin", "--format", fmt)[0] == 0
    again = read_file(folder / "b.bin")
    if fmt == "csv":  # one series, named after its file: its points make the round trip
        assert [s.timestamps.tolist() for s in again] == [s.timestamps.tolist() for s in series_list]
        assert [float_bits(s.values).tolist() for s in again] == [float_bits(s.values).tolist() for s in series_list]
    else:
        assert_identical(series_list, imported, "import")
        assert_identical(imported, again, "import, export, import")


def test_export_to_stdout_is_the_same_text_as_to_a_file(tmp_path, capsys):
    write_file(tmp_path / "m.bin", [Series("up", {"job": "a"}, [10**18, 2 * 10**18], [1.0, 0.0])])
    code, text, _ = squeeze(capsys, "export", tmp_path / "m.bin", "--format", "openmetrics")
    assert code == 0 and text == 'up{job="a"} 1.0 1000000000\nup{job="a"} 0.0 2000000000\n# EOF\n'.replace(
        "up{", "# TYPE up unknown\nup{", 1)
    code, summary, _ = squeeze(capsys, "export", tmp_path / "m.bin", "--format", "openmetrics", "--out", tmp_path / "m.om")
    assert (tmp_path / "m.om").read_text() == text and summary.startswith("2 points as openmetrics: ")


def test_metric_and_label_choose_the_series_exported(tmp_path, capsys):
    write_file(tmp_path / "m.bin", [Series("cpu", {"host": h}, [10**18], [float(i)]) for i, h in enumerate("abc")])
    code, text, _ = squeeze(capsys, "export", tmp_path / "m.bin", "--format", "influx", "--metric", "cpu",
                            "--label", "host=b")
    assert code == 0 and text == "cpu,host=b value=1.0 1000000000000000000\n"


@pytest.mark.parametrize("series,arguments,words", [
    (Series("m", {}, [1, 2], [1.0, np.nan]), ["--format", "influx"], ["influx", "m{}", "NaN"]),
    (Series("m", {}, [1, 1], [1.0, 2.0]), ["--format", "openmetrics"], ["openmetrics", "increasing"]),
    (Series("m", {}, [1], [1.0]), ["--format", "xml"], ["--format", "invalid choice"]),
    (Series("m", {}, [1], [1.0]), ["--format", "csv", "--metric", "n"], ["no series matches n{}"]),
])
def test_what_a_format_cannot_carry_is_refused_in_one_line_and_no_file_is_left(tmp_path, capsys, series, arguments,
                                                                               words):
    write_file(tmp_path / "m.bin", [series, Series("other", {}, [5], [5.0])])
    result = squeeze(capsys, "export", tmp_path / "m.bin", *arguments, "--out", tmp_path / "out.txt")
    assert_one_line_error(result, *words)
    assert not (tmp_path / "out.txt").exists()


def test_csv_needs_one_series(tmp_path, capsys):
    write_file(tmp_path / "m.bin", [Series("a", {}, [1], [1.0]), Series("b", {}, [1], [1.0])])
    assert_one_line_error(squeeze(capsys, "export", tmp_path / "m.bin", "--format", "csv"), "has 2", "--metric")


def test_a_missing_file_is_one_line(tmp_path, capsys):
    assert_one_line_error(squeeze(capsys, "export", tmp_path / "none.bin", "--format", "influx"), "none.bin")
