"""Which dataset each file in an output folder was written from, so that no report mixes two.

A run that is interrupted (Ctrl-C during phase 3) leaves a new dataset beside the files the
previous dataset made. Run on its own later, phase 4 would compare its size with phase 3's file
of the old data, and phase 5 would project a year from an old NDJSON size. So every phase records
the fingerprint of the dataset it read next to the names of the files it wrote, in one small JSON
file in the output folder (`.provenance.json`), and a phase that looks at another phase's file
first asks whether it was written from the dataset that is there now.

The fingerprint is the dataset file's size and its own CRC32, read from its last four bytes:
regenerating the same dataset (same seed) gives the same fingerprint, so its files stay valid;
any other dataset gives another one. Example: {"01_metrics.ndjson": "840123:9f1c22aa"}.
"""
import json
from pathlib import Path

from lib.data.dataset import dataset_path
from lib.plumbing.atomic import write_bytes_atomically

PROVENANCE_FILENAME = ".provenance.json"
CRC_BYTES = 4


def dataset_fingerprint(output_dir):
    """"<size>:<crc32 hex>" of the output folder's dataset file, or None if there is none."""
    path = dataset_path(output_dir)
    try:
        with open(path, "rb") as f:
            size = f.seek(0, 2)
            if size < CRC_BYTES:
                return None
            f.seek(size - CRC_BYTES)
            return f"{size}:{f.read(CRC_BYTES)[::-1].hex()}"
    except (FileNotFoundError, IsADirectoryError):
        return None


def _records(output_dir):
    try:
        records = json.loads((Path(output_dir) / PROVENANCE_FILENAME).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError, UnicodeDecodeError):
        return {}
    return records if isinstance(records, dict) else {}


def record_written(output_dir, *paths):
    """Note that these files (in `output_dir`) were written from the folder's current dataset."""
    records = _records(output_dir)
    fingerprint = dataset_fingerprint(output_dir)
    records.update({Path(path).name: fingerprint for path in paths})
    text = json.dumps(records, indent=1, sort_keys=True) + "\n"
    write_bytes_atomically(Path(output_dir) / PROVENANCE_FILENAME, text.encode("utf-8"))


def written_from_current_dataset(path):
    """True if the file exists and was recorded as written from the dataset now beside it."""
    path = Path(path)
    fingerprint = dataset_fingerprint(path.parent)
    return path.exists() and fingerprint is not None and _records(path.parent).get(path.name) == fingerprint
