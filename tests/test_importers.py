"""import_paths as a whole (lib/data/importers/__init__.py): several files and formats in one import,
the errors that belong to no one format, and damaged input of every kind.

Fixtures and comparisons are in tests/importer_inputs.py; each format has its own test file.
"""
import pytest
from hypothesis import given, settings, strategies as st

from lib.data.dataset import assert_identical, load_dataset, save_dataset
from lib.data.importers import FORMATS, import_paths
from lib.errors import FormatError
from tests.importer_inputs import LINE_PROTOCOL, PROMETHEUS, by_name, import_error, write

# import_paths

def test_a_single_path_needs_no_list(tmp_path):
    path = write(tmp_path, "m.csv", "timestamp,value\n1700000000,1\n")
    assert import_paths(str(path)).files == [str(path)]


def test_formats_lists_every_name():
    assert FORMATS == ("csv", "csv-long", "influx", "openmetrics", "prometheus-json")


def test_mixed_formats_in_one_import(tmp_path):
    paths = [
        write(tmp_path, "a/cpu.csv", "timestamp,value\n1700000000,1\n"),
        write(tmp_path, "b.lp", LINE_PROTOCOL),
        write(tmp_path, "c.json", PROMETHEUS),
    ]
    result = import_paths(paths)
    assert set(by_name(result)) == {'cpu{source="a"}', 'cpu_usage{host="a"}', "up{}"}
    assert list(result.formats.values()) == ["csv", "influx", "prometheus-json"]


def test_a_file_given_twice_is_read_once(tmp_path):
    path = write(tmp_path, "m.csv", "timestamp,value\n1700000000,1\n")
    result = import_paths([path, path])
    assert len(result.series[0]) == 1
    assert result.warnings == [f"{path}: given more than once, read once"]


def test_an_import_saves_and_loads_as_a_dataset_unchanged(tmp_path):
    paths = [
        write(tmp_path, "h/m.csv", "timestamp,value\n1700000001,NaN\n1700000000,-0.0\n"),
        write(tmp_path, "b.lp", LINE_PROTOCOL),
        write(tmp_path, "c.json", PROMETHEUS),
    ]
    imported = import_paths(paths).series
    save_dataset(imported, tmp_path / "00_dataset.bin")
    loaded, _info = load_dataset(tmp_path / "00_dataset.bin")
    assert_identical(imported, loaded)


# Errors

def test_an_import_with_no_points_at_all_is_an_error(tmp_path):
    path = write(tmp_path, "empty.csv", "timestamp,value\n")
    with pytest.raises(FormatError, match="no data points"):
        import_paths([path])


@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf", b"\r\n\n  \n"])
def test_a_file_with_nothing_in_it_is_an_empty_file_error(tmp_path, content):
    path = write(tmp_path, "nothing.csv", content)
    error = import_error([path], "empty file")
    assert str(path) in error


def test_a_missing_file_is_a_format_error(tmp_path):
    missing = tmp_path / "nope.csv"
    with pytest.raises(FormatError) as caught:
        import_paths([missing])
    assert str(caught.value) == f"{missing}: no such file"
    assert isinstance(caught.value, ValueError)


def test_an_unknown_format_is_refused(tmp_path):
    path = write(tmp_path, "m.csv", "timestamp,value\n1,1\n")
    with pytest.raises(FormatError, match="unknown format 'parquet'"):
        import_paths([path], fmt="parquet")


@pytest.mark.parametrize("content,name", [
    ("timestamp,value\n1e-99999999999999999999,1\n", "huge.csv"),
    ("timestamp,value\n" + "9" * 5000 + ",1\n", "long.csv"),
    ("m f=" + "9" * 5000 + "i 1\n", "long.lp"),
    ("[" * 200_000, "deep.json"),
    ('{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"up","job":"\\ud800"},'
     '"values":[[1,"1"]]}]}}', "surrogate.json"),
    ("timestamp,value\n\u0661\u0667\u0660\u0660\u0660\u0660\u0660\u0660\u0660\u0660,1\n", "arabic_digits.csv"),
])
def test_absurd_input_is_a_format_error_naming_the_file(tmp_path, content, name):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(FormatError, match=name):
        import_paths([path])


# Property: damaged input is refused with a FormatError, never another exception

SEED_FILES = [
    ("a.csv", "timestamp,value\r\n1700000000,1.5\n2023-10-12T14:30:00.5+02:00,NaN\n"),
    ("b.csv", 'timestamp,metric,host,value\n1700000000,cpu,"a,b",1\n1.5e9,mem,,-Inf\n'),
    ("c.lp", '# c\nw,loc\\ a=us\\,mid t=82,s="a b\\"c",n=12i,u=3u,ok=true 1465839830100400200\ncpu v=1 -5\n'),
    ("d.json", PROMETHEUS),
    ("e.om", '# TYPE m counter\nm_total{a="x\\"y",b=""} 1 1700000000.5 # {t="1"} 1\nm_total 2 1.7e9\n'
             '# EOF\n'),
]


edits = st.lists(
    st.tuples(st.integers(0, 200), st.integers(0, 2), st.sampled_from(list('0.,=" \\\n\r#{}[]:eiutZ+-_é'))),
    min_size=1,
    max_size=4,
)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(SEED_FILES), edits, st.sampled_from((None,) + FORMATS))
def test_damaged_input_imports_or_raises_a_one_line_format_error(tmp_path_factory, seed, changes, fmt):
    name, text = seed
    chars = list(text)
    for position, action, char in changes:
        position %= len(chars) + 1
        if action == 0:
            chars.insert(position, char)
        elif chars:
            del chars[min(position, len(chars) - 1)]
            if action == 2:
                chars.insert(position, char)
    path = write(tmp_path_factory.mktemp("damaged"), name, "".join(chars))
    try:
        result = import_paths([path], fmt)
    except FormatError as error:
        assert str(error).startswith(str(path)) and "\n" not in str(error)
    else:
        assert result.series and all(len(s) for s in result.series)
