"""Where the phase scripts are, and how main.py and the tests load them in-process.

The scripts' names start with their phase number (`01_ndjson_storage.py`) so they sort in reading
order; such names cannot be imported with `import`, so they are loaded from their file path.
"""
import importlib.util
import time
from pathlib import Path
from typing import NamedTuple

from lib.data.dataset import DEFAULT_OUTPUT_DIR, PROJECT_ROOT, first_difference
from lib.errors import RoundTripError
from lib.runner.provenance import record_written, written_from_current_dataset

GENERATOR_SCRIPT = "00_generate_data.py"
# The file each phase writes into the output folder; a later phase may read an earlier one's file.
OUTPUT_FILENAMES = {
    1: "01_metrics.ndjson",
    2: "02_columnar.msgpack",
    3: "03_compressed_columnar.msgpack",
    4: "04_metrics.bin",
}
PHASE_SCRIPTS = (
    "01_ndjson_storage.py",
    "02_columnar_storage.py",
    "03_compressed_columnar.py",
    "04_custom_binary_format.py",
    "05_downsampling_storage.py",
)


def load_script(filename):
    """Import a numbered script as a module (its `__main__` block does not run)."""
    path = PROJECT_ROOT / filename
    spec = importlib.util.spec_from_file_location(f"phase_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def command_for(script, output_dir):
    """The command that runs `script` on `output_dir`, as a user would type it:
    `python 04_custom_binary_format.py --output-dir /tmp/x` (no option for the default folder)."""
    folder = "" if Path(output_dir).resolve() == DEFAULT_OUTPUT_DIR else f" --output-dir {output_dir}"
    return f"python {script}{folder}"


def available_phase_scripts():
    """The phase scripts present in this checkout, in order (later phases arrive one by one)."""
    return [name for name in PHASE_SCRIPTS if (PROJECT_ROOT / name).exists()]


def earlier_phase_file(output_dir, phase):
    """An earlier phase's file for a size comparison, or None if it is missing or was written from
    another dataset (lib/runner/provenance.py): comparing with it would mislead."""
    path = Path(output_dir) / OUTPUT_FILENAMES[phase]
    return path if written_from_current_dataset(path) else None


class WriteCheck(NamedTuple):
    """What `write_and_verify` established: the file's size, the time taken, and whether the file
    read back identical (from the comparison itself, never assumed)."""
    bytes: int
    seconds: float
    verified: bool


def write_and_verify(series_list, path, write, read, context):
    """What every lossless phase does: write its file, read it back, prove it identical.

    Returns a WriteCheck; raises RoundTripError naming the first difference if the file reads
    back different in any bit, so a phase that cannot prove its round trip fails loudly.
    """
    start = time.perf_counter()
    size = write(series_list, path)
    difference = first_difference(series_list, read(path))
    verified = difference is None
    if not verified:
        raise RoundTripError(f"{context} ({path}): {difference}")
    record_written(Path(path).parent, path)
    return WriteCheck(size, time.perf_counter() - start, verified)
