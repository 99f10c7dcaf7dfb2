"""One run at a time per output folder.

Every phase reads the dataset that phase 0 wrote into the output folder. Two runs sharing a
folder (seed 1 and seed 2 started together) would overwrite each other's dataset between phases,
and each would print a table whose rows describe different data. So each command-line entry point
(main.py, 00_generate_data.py, every phase script run on its own) holds an exclusive `flock` on a
lock file in the folder for its whole run.

A second run does not wait: it stops at once with one line naming the folder and the process that
holds it. Waiting would leave a user staring at a silent terminal, and the second run would then
replace the first one's dataset anyway; a clear refusal says what to do (wait, or choose another
--output-dir). The operating system releases the lock when the holder exits, even if it crashes,
so a stale lock file is harmless and is never deleted (deleting it would let two runs lock two
different files).
"""
import contextlib
import fcntl
import os
from pathlib import Path

from lib.errors import SqueezedSignalsError
from lib.plumbing.atomic import ensure_folder

LOCK_FILENAME = ".squeezed-signals.lock"


class OutputFolderBusyError(SqueezedSignalsError):
    """Another run holds the output folder."""


class NotAFolderError(SqueezedSignalsError):
    """--output-dir names something other than a folder."""


@contextlib.contextmanager
def locked_output_dir(output_dir):
    """Create `output_dir` if needed and hold its lock until the block ends."""
    output_dir = Path(output_dir)
    if output_dir.exists() and not output_dir.is_dir():
        raise NotAFolderError(f"{output_dir}: not a folder (--output-dir must name a folder)")
    ensure_folder(output_dir)
    lock_path = output_dir / LOCK_FILENAME
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o666)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "?"
            raise OutputFolderBusyError(
                f"{output_dir} is in use by another run (process {holder}); "
                f"wait for it to finish or choose another --output-dir"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        yield output_dir
    finally:
        os.close(fd)  # closing the last descriptor releases the flock
