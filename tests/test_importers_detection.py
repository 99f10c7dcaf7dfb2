"""Which files an import reads and the format of each (lib/data/importers/detection.py)."""
import pytest

from lib.data.importers import detect_format, import_paths
from lib.errors import FormatError
from tests.importer_inputs import LINE_PROTOCOL, PROMETHEUS, by_name, import_error, write

OPENMETRICS = "# TYPE up gauge\nup 1 1700000000\n# EOF\n"

# Folders

def test_a_folder_imports_its_csv_files_recursively_in_sorted_order(tmp_path):
    write(tmp_path, "data/b.csv", "timestamp,value\n1700000000,2\n")
    write(tmp_path, "data/a.csv", "timestamp,value\n1700000000,1\n")
    write(tmp_path, "data/sub/c.CSV", "timestamp,value\n1700000000,3\n")
    write(tmp_path, "data/notes.txt", "not a csv")
    write(tmp_path, "data/.hidden.csv", "garbage")
    write(tmp_path, "data/.cache/x.csv", "garbage")
    result = import_paths([tmp_path / "data"])
    data = tmp_path / "data"
    assert result.files == [str(data / "a.csv"), str(data / "b.csv"), str(data / "sub" / "c.CSV")]
    assert by_name(result).keys() == {'a{source="data"}', 'b{source="data"}', 'c{source="sub"}'}


def test_a_folder_without_csv_files_is_an_error(tmp_path):
    write(tmp_path, "d/readme.txt", "hello")
    error = import_error([tmp_path / "d"], "no CSV files")
    assert str(tmp_path / "d") in error


def test_a_symbolic_link_loop_is_named_as_such_in_a_folder_or_given_directly(tmp_path):
    write(tmp_path, "d/a.csv", "timestamp,value\n1,1\n")
    (tmp_path / "d" / "loop.csv").symlink_to("loop.csv")
    (tmp_path / "one.csv").symlink_to("two.csv")
    (tmp_path / "two.csv").symlink_to("one.csv")
    for given in (tmp_path / "d", tmp_path / "d" / "loop.csv"):
        error = import_error([given], "symbolic link loop")
        assert error.startswith(f"{tmp_path / 'd' / 'loop.csv'}: ")
    assert import_error([tmp_path / "one.csv"], "symbolic link loop").startswith(f"{tmp_path / 'one.csv'}: ")


def test_a_dangling_symbolic_link_is_no_such_file(tmp_path):
    (tmp_path / "gone.csv").symlink_to("nowhere.csv")
    assert import_error([tmp_path / "gone.csv"], "no such file") == f"{tmp_path / 'gone.csv'}: no such file"


def test_a_folder_with_a_non_csv_format_is_refused(tmp_path):
    write(tmp_path, "d/a.csv", "timestamp,value\n1,1\n")
    with pytest.raises(FormatError, match="folder imports its CSV files"):
        import_paths([tmp_path / "d"], fmt="influx")


# Formats by extension, then by content, and the fmt override

@pytest.mark.parametrize(
    "name, content, expected",
    [
        ("a.csv", "timestamp,value\n1,1\n", "csv"),
        ("a.CSV", "timestamp,metric,value\n1,m,1\n", "csv-long"),
        ("a.json", PROMETHEUS, "prometheus-json"),
        ("a.lp", LINE_PROTOCOL, "influx"),
        ("a.line", LINE_PROTOCOL, "influx"),
        ("a.influx", LINE_PROTOCOL, "influx"),
        ("a.txt", "\n\ntimestamp,value\n1,1\n", "csv"),
        ("a.txt", "Timestamp, Metric_Name, value\n1,m,1\n", "csv-long"),
        ("a.txt", "\n  " + PROMETHEUS, "prometheus-json"),
        ("a.txt", "# influx export\n" + LINE_PROTOCOL, "influx"),
        ("a", LINE_PROTOCOL, "influx"),
        ("a.txt", "disk\\ io,host=a read=1i 1700000000000000000\n", "influx"),
        ("a.om", OPENMETRICS, "openmetrics"),
        ("a.prom", OPENMETRICS, "openmetrics"),
        ("a.txt", OPENMETRICS, "openmetrics"),
        ("a", "# HELP up Up.\n" + OPENMETRICS, "openmetrics"),
        ("a", "# UNIT up_seconds seconds\nup_seconds 1 5\n# EOF\n", "openmetrics"),
        ("a.txt", "# DDL\n# comment\n" + LINE_PROTOCOL, "influx"),  # other '#' lines are comments
        ("a.txt", "# TYPEWRITER\n" + LINE_PROTOCOL, "influx"),
    ],
)
def test_detection_by_extension_then_content(tmp_path, name, content, expected):
    path = write(tmp_path, name, content)
    assert detect_format(path) == expected
    assert import_paths([path]).formats == {str(path): expected}


def test_the_extension_wins_over_the_content(tmp_path):
    path = write(tmp_path, "looks-like.csv", LINE_PROTOCOL)
    with pytest.raises(FormatError, match="missing column"):
        import_paths([path])


def test_an_undetectable_file_asks_for_a_format(tmp_path):
    path = write(tmp_path, "mystery.dat", "just some words\n")
    error = import_error([path], "cannot tell the format")
    assert error.startswith(f"{path}: ")


def test_fmt_overrides_detection(tmp_path):
    path = write(tmp_path, "export.csv", LINE_PROTOCOL)
    [series] = import_paths([path], fmt="influx").series
    assert series.display_name() == 'cpu_usage{host="a"}'


def test_fmt_csv_is_the_simple_form_only(tmp_path):
    path = write(tmp_path, "d.txt", "timestamp,metric,value\n1700000000,m,1\n")
    with pytest.raises(FormatError, match="long CSV form"):
        import_paths([path], fmt="csv")
    [series] = import_paths([path], fmt="csv-long").series
    assert series.name == "m"


def test_fmt_csv_long_requires_a_metric_column(tmp_path):
    path = write(tmp_path, "d.csv", "timestamp,value\n1700000000,1\n")
    with pytest.raises(FormatError, match="missing column 'metric' or 'metric_name'"):
        import_paths([path], fmt="csv-long")
