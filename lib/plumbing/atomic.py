"""Atomic file writes: write to a temporary file beside the target, then rename over it.

A crash mid-write leaves either the old file or no file at the final path, never a half-written
one that looks valid. `os.replace` is atomic on POSIX and Windows when both paths share a folder.

Errors name the user's path, never the temporary file's: a folder where the file should go, a
file where its folder should be, or a full disk (`No space left on device` says nothing about
where) all raise an OSError whose `filename` is the target or its folder.
"""
import contextlib
import errno
import os
import tempfile
from pathlib import Path


def _current_umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


# mkstemp creates files readable only by their owner; a finished file gets the usual permissions.
FILE_MODE = 0o666 & ~_current_umask()


def _path_error(code, path):
    return OSError(code, os.strerror(code), str(path))  # OSError() picks the subclass for the code


def ensure_folder(folder):
    """Create `folder` (and its parents) unless it exists; a file in its place is named as such."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise _path_error(errno.ENOTDIR, folder) from None
    except NotADirectoryError:  # a file further up the path
        blocker = next(p for p in reversed(folder.parents) if p.exists() and not p.is_dir())
        raise _path_error(errno.ENOTDIR, blocker) from None


@contextlib.contextmanager
def atomic_write(path, mode="wb"):
    """Open a temporary file for writing; on success move it to `path`, on error remove it."""
    path = Path(path)
    ensure_folder(path.parent)
    if path.is_dir():
        raise _path_error(errno.EISDIR, path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        encoding = None if "b" in mode else "utf-8"
        with os.fdopen(fd, mode, encoding=encoding) as tmp:
            yield tmp
            tmp.flush()
            os.fsync(tmp.fileno())
        os.chmod(tmp_name, FILE_MODE)
        os.replace(tmp_name, path)
    except OSError as exc:
        _remove(tmp_name)
        if exc.errno and exc.filename in (None, tmp_name):
            # e.g. ENOSPC from write() or fsync(), or os.replace onto a folder created meanwhile
            raise _path_error(exc.errno, path) from exc
        raise
    except BaseException:
        _remove(tmp_name)
        raise


def _remove(name):
    with contextlib.suppress(FileNotFoundError):
        os.unlink(name)


def write_bytes_atomically(path, data):
    """Write `data` to `path` atomically."""
    with atomic_write(path) as f:
        f.write(data)
