"""Opening input files without trusting what the path points to.

A path can name a device (`/dev/zero` never ends), a named pipe (opening it waits for a writer
that may never come) or a folder, directly or through a symlink. Every reader in the project opens
its input here: the file is opened without blocking, checked to be a regular file after symlinks
are resolved, and read no further than the size it had when opened, so no input can hang a run
or grow its memory past the file's own size. A symbolic link that leads back to itself (directly
or through others) is named as such, not as a missing file (`is_symlink_loop`).
"""
import errno
import os
import stat

from lib.errors import FormatError

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISSOCK, "a socket"),
)


def open_regular_file(path):
    """Open `path` for binary reading; returns (file object, size in bytes).

    Raises FileNotFoundError if nothing is there and FormatError if it is not a regular file.
    """
    # O_NONBLOCK: opening a named pipe for reading would otherwise wait for a writer.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = next((name for test, name in _KINDS if test(info.st_mode)), "not a regular file")
            raise FormatError(f"{path}: {kind}, not a regular file")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb"), info.st_size
    except BaseException:
        os.close(fd)
        raise


def read_regular_file(path):
    """The whole content of a regular file, read no further than its size when opened."""
    f, size = open_regular_file(path)
    with f:
        return f.read(size)


def is_symlink_loop(path):
    """True when following the symbolic links of `path` goes round in a circle (ELOOP)."""
    try:
        os.stat(path)
    except OSError as exc:
        return exc.errno == errno.ELOOP
    return False
