"""lib/plumbing/atomic.py: all or nothing at the final path, and errors that name the user's path."""
import errno
import os

import pytest

from lib.plumbing import atomic
from lib.plumbing.atomic import atomic_write, write_bytes_atomically


def test_a_finished_write_replaces_the_file_and_leaves_no_temp_file(tmp_path):
    target = tmp_path / "f.bin"
    target.write_bytes(b"old")
    write_bytes_atomically(target, b"new")
    assert target.read_bytes() == b"new" and os.listdir(tmp_path) == ["f.bin"]


def test_a_failed_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "f.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with atomic_write(target) as f:
            f.write(b"half")
            raise RuntimeError("crash")
    assert target.read_bytes() == b"old" and os.listdir(tmp_path) == ["f.bin"]


def test_a_folder_at_the_target_path_is_named_not_the_temp_file(tmp_path):
    (tmp_path / "rows.json").mkdir()
    with pytest.raises(IsADirectoryError) as caught:
        write_bytes_atomically(tmp_path / "rows.json", b"[]")
    assert caught.value.filename == str(tmp_path / "rows.json")
    assert os.listdir(tmp_path) == ["rows.json"]


def test_a_file_where_the_folder_should_be_is_named(tmp_path):
    (tmp_path / "out").write_text("a file")
    with pytest.raises(NotADirectoryError) as caught:
        write_bytes_atomically(tmp_path / "out" / "00_dataset.bin", b"x")
    assert caught.value.filename == str(tmp_path / "out")


def test_a_full_disk_names_the_file_being_written(tmp_path, monkeypatch):
    def disk_full(_fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(atomic.os, "fsync", disk_full)
    target = tmp_path / "04_metrics.bin"
    with pytest.raises(OSError) as caught:
        write_bytes_atomically(target, b"data")
    assert caught.value.errno == errno.ENOSPC and caught.value.filename == str(target)
    assert os.listdir(tmp_path) == []


def test_a_full_disk_during_a_write_names_the_file(tmp_path):
    target = tmp_path / "02_columnar.msgpack"
    with pytest.raises(OSError) as caught:
        with atomic_write(target):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    assert caught.value.filename == str(target)
