"""lib/data/ndjson.py, phase 1's reader: the fast canonical-line path and the plain json.loads path
(the reference) give the same dataset."""
import json

import numpy as np
import pytest
from hypothesis import given, settings

from lib.data import ndjson
from lib.data.dataset import Series, assert_identical
from lib.errors import FormatError
from tests.conftest import INT64_MAX, awkward_dataset, phase_module
from tests.test_dataset import datasets

chapter = phase_module("01_ndjson_storage.py")


def read_one_by_one(path):
    """The reference reader: every line through json.loads, no fast path."""
    columns = ndjson.SeriesColumns()
    for first_line_number, _count, lines in ndjson.read_whole_lines(path):
        ndjson.parse_lines_one_by_one(lines, first_line_number, columns, path)
    return columns.to_dataset()


def fast_path_takes(path):
    """True if every chunk of the file goes through the canonical-line fast path."""
    columns = ndjson.SeriesColumns()
    return all(ndjson.parse_canonical_lines(lines, count, columns)
               for _first, count, lines in ndjson.read_whole_lines(path))


@settings(max_examples=60, deadline=None)
@given(series_list=datasets())
def test_fast_and_plain_readers_agree_on_any_dataset(tmp_path_factory, series_list):
    path = tmp_path_factory.mktemp("n") / "m.ndjson"
    chapter.write_ndjson(series_list, path)
    assert_identical(series_list, ndjson.read_ndjson(path))
    assert_identical(series_list, read_one_by_one(path))
    if all(len(s) for s in series_list):  # no declaration line: every line is the writer's layout
        assert fast_path_takes(path)


def test_the_writer_s_lines_take_the_fast_path(tmp_path):
    with_points = [s for s in awkward_dataset() if len(s)]  # an empty series is a declaration line
    chapter.write_ndjson(with_points, tmp_path / "m.ndjson")
    assert fast_path_takes(tmp_path / "m.ndjson")


@pytest.mark.parametrize("line", [
    '{"metric_name": "m", "labels": {}}',  # a declared series without points
    '{"timestamp": 5, "metric_name": "m", "value": 2, "labels": {}}',  # an integer value
    '{"timestamp":5,"metric_name":"m","value":2.5,"labels":{}}',  # compact separators
    '{"labels": {}, "value": 2.5, "metric_name": "m", "timestamp": 5}',  # other key order
    '{"timestamp": 5, "metric_name": "m", "value": 2.5, "labels": {}, "value": 3.5}',  # repeated key
    '{"timestamp": 5, "metric_name": "m", "value": 2.5, "labels": {"a": "b"}, "x": {}}',  # extra key
])
def test_lines_in_another_layout_fall_back_to_json_loads(tmp_path, line):
    path = tmp_path / "m.ndjson"
    path.write_text(line + "\n")
    assert not fast_path_takes(path)
    assert_identical(read_one_by_one(path), ndjson.read_ndjson(path))


def test_a_file_in_another_layout_reads_back_identical(tmp_path):
    series_list = awkward_dataset()
    chapter.write_ndjson(series_list, tmp_path / "m.ndjson")
    lines = (tmp_path / "m.ndjson").read_text().splitlines()
    relaid = [json.dumps(dict(reversed(json.loads(line).items())), separators=(",", ":")) for line in lines]
    (tmp_path / "r.ndjson").write_text("\r\n".join(relaid))  # CRLF, and no newline after the last line
    assert_identical(series_list, ndjson.read_ndjson(tmp_path / "r.ndjson"))


def test_chunks_cut_anywhere_give_whole_lines_and_right_line_numbers(tmp_path):
    content = b"".join(b'{"n": %d}\n' % i for i in range(1, 40)) + b'{"n": 40}'  # last line unterminated
    (tmp_path / "f").write_bytes(content)
    for chunk_bytes in (1, 7, 10, 64, 1 << 20):
        pieces = list(ndjson.read_whole_lines(tmp_path / "f", chunk_bytes))
        assert b"".join(lines for _first, _count, lines in pieces) == content + b"\n"
        for first, count, lines in pieces:
            numbers = [json.loads(line)["n"] for line in lines.split(b"\n")[:-1]]
            assert numbers == list(range(first, first + count))


def test_a_bad_line_deep_in_the_file_is_named_by_its_number(tmp_path, monkeypatch):
    series_list = [Series("m", {"host": "a"}, np.arange(500), np.arange(500) * 0.5)]
    path = tmp_path / "m.ndjson"
    chapter.write_ndjson(series_list, path)
    lines = path.read_bytes().split(b"\n")
    lines[376] = lines[376].replace(b'"value": ', b'"value": "lots", "x": ')
    path.write_bytes(b"\n".join(lines))
    monkeypatch.setattr(ndjson, "READ_CHUNK_BYTES", 1000)  # many chunks: the bad line is not in the first
    with pytest.raises(FormatError, match=r"m\.ndjson:377: bad NDJSON point"):
        ndjson.read_ndjson(path)


@pytest.mark.parametrize("timestamp", [str(INT64_MAX + 1), str(-(2**63) - 1)])
def test_a_timestamp_outside_int64_is_refused_with_its_line(tmp_path, timestamp):
    path = tmp_path / "m.ndjson"
    path.write_text('{"timestamp": 1, "metric_name": "m", "value": 1.0, "labels": {}}\n'
                    f'{{"timestamp": {timestamp}, "metric_name": "m", "value": 1.0, "labels": {{}}}}\n')
    with pytest.raises(FormatError, match=r"m\.ndjson:2:"):
        ndjson.read_ndjson(path)


@pytest.mark.parametrize("labels", ['{"a": "b"}, "x"', '[]', '{"a": "\\ud800"}', '{"a": 1}'])
def test_labels_text_that_is_not_one_json_object_is_refused(tmp_path, labels):
    path = tmp_path / "m.ndjson"
    path.write_text(f'{{"timestamp": 1, "metric_name": "m", "value": 1.0, "labels": {labels}}}\n')
    with pytest.raises(FormatError, match=r"m\.ndjson"):
        ndjson.read_ndjson(path)


def test_without_a_checksum_a_flipped_digit_reads_back_as_another_valid_value(tmp_path):
    # The docstring's warning, demonstrated: NDJSON has nothing that could notice the damage.
    path = tmp_path / "m.ndjson"
    chapter.write_ndjson([Series("m", {}, [1], [75.2])], path)
    path.write_bytes(path.read_bytes().replace(b"75.2", b"75.3"))
    assert ndjson.read_ndjson(path)[0].values.tolist() == [75.3]
