"""Atomic file writes: write to a temporary file beside the target, then rename over it.

A crash mid-write leaves either the old file or no file at the final path, never a half-written
one that looks valid. `os.replace` is atomic on POSIX and Windows when both paths share a folder.
"""
import contextlib
import os
import tempfile
from pathlib import Path


def _current_umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


# mkstemp creates files readable only by their owner; a finished file gets the usual permissions.
FILE_MODE = 0o666 & ~_current_umask()


@contextlib.contextmanager
def atomic_write(path, mode="wb"):
    """Open a temporary file for writing; on success move it to `path`, on error remove it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        encoding = None if "b" in mode else "utf-8"
        with os.fdopen(fd, mode, encoding=encoding) as tmp:
            yield tmp
            tmp.flush()
            os.fsync(tmp.fileno())
        os.chmod(tmp_name, FILE_MODE)
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


def write_bytes_atomically(path, data):
    """Write `data` to `path` atomically."""
    with atomic_write(path) as f:
        f.write(data)
