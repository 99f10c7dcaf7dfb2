"""benchmarks/compare_peers.py on tiny datasets, with only the peers that need no extra package."""
import importlib.util
import json

import numpy as np
import pytest

from lib.data.dataset import PROJECT_ROOT
from lib.data.generator import generate_dataset
from lib.storage import metrics_file, streaming_writer
from tests.conftest import INT64_MAX, INT64_MIN, awkward_dataset

STDLIB_GROUPS = ("project", "stdlib")


def load_compare_peers():
    path = PROJECT_ROOT / "benchmarks" / "compare_peers.py"
    spec = importlib.util.spec_from_file_location("compare_peers", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


cp = load_compare_peers()


def stdlib_peers():
    peers, _notes = cp.available_peers(STDLIB_GROUPS)
    return peers


def test_every_stdlib_peer_round_trips_a_generated_dataset(tmp_path):
    series_list = generate_dataset(4, 600, seed=3)
    rows = cp.compare(series_list, stdlib_peers(), repeat=1)
    assert len(rows) == 2 + 2 * len(cp.PREPARATIONS)  # the METRICS! file, Gorilla, zlib and lzma variants
    assert all(r.verified and r.error is None for r in rows), [r.error for r in rows if not r.verified]
    assert [r.bytes for r in rows] == sorted(r.bytes for r in rows)
    by_name = {r.peer: r for r in rows}
    # The METRICS! row is the size of the file the format writes for this dataset.
    written = streaming_writer.write_file(tmp_path / "m.bin", series_list, metrics_file.DEFAULT_BLOCK_POINTS)
    project = by_name[cp.PROJECT_FILE_PEER]
    assert project.bytes == written == (tmp_path / "m.bin").stat().st_size
    # Its column bits are its streams: both present, together less than the file.
    assert project.timestamp_bytes > 0 and project.value_bytes > 0
    assert project.timestamp_bytes + project.value_bytes < project.bytes
    # Without the zstd group in the run there is no reference row, so no speed ratios.
    assert all(r.encode_ratio is None and r.decode_ratio is None for r in rows)
    # Every other row is the length of the blob its decoder reads, and the streams fit inside it.
    for peer in [p for p in stdlib_peers() if p.name != cp.PROJECT_FILE_PEER]:
        encoded = peer.encode(series_list, tmp_path)
        assert by_name[peer.name].bytes == encoded.size == len(encoded.payload)
        assert encoded.timestamp_bytes + encoded.value_bytes < encoded.size


def test_awkward_values_and_timestamps_survive_every_stdlib_peer():
    rows = cp.compare(awkward_dataset(), stdlib_peers(), repeat=1)
    assert all(r.verified for r in rows), [(r.peer, r.error) for r in rows if not r.verified]


def test_a_peer_that_changes_a_bit_or_raises_is_failed_not_included():
    series_list = generate_dataset(2, 200, seed=1)
    honest = stdlib_peers()[2]

    def flip_one_bit(encoded):
        decoded = honest.decode(encoded)
        decoded[0].values = decoded[0].values.copy()
        decoded[0].values.view(np.uint64)[0] ^= 1
        return decoded

    def explode(encoded):
        raise RuntimeError("boom")

    liar = cp.Peer("liar", "test", honest.encode, flip_one_bit)
    broken = cp.Peer("broken", "test", honest.encode, explode)
    rows = cp.compare(series_list, [liar, broken, honest], repeat=1)
    assert [r.peer for r in rows][0] == honest.name and rows[0].verified
    failed = {r.peer: r for r in rows[1:]}
    assert not failed["liar"].verified and "value 0 has bits" in failed["liar"].error
    assert not failed["broken"].verified and "RuntimeError: boom" in failed["broken"].error
    table = cp.format_table(rows)
    assert table.count("FAILED") == 2
    assert cp.summary_line(rows).startswith(f"smallest: {honest.name}")


def test_shuffle_and_delta_are_exact_inverses():
    timestamps = np.array([INT64_MIN, INT64_MAX, 0, -1, INT64_MIN, 5, 5], dtype=np.int64)
    assert np.array_equal(cp.undelta(cp.delta(timestamps)), timestamps)
    shuffled = cp.byte_shuffle(np.array([0x0102030405060708, 0x1112131415161718], dtype="<i8"))
    assert shuffled == bytes([8, 0x18, 7, 0x17, 6, 0x16, 5, 0x15, 4, 0x14, 3, 0x13, 2, 0x12, 1, 0x11])
    values = np.array([0x7FF8000000000001, 0x8000000000000000, 1], dtype=np.uint64).view(np.float64)
    restored = cp.byte_unshuffle(cp.byte_shuffle(values), cp.FLOAT64)
    assert np.array_equal(restored.view(np.uint64), values.view(np.uint64))
    assert cp.byte_unshuffle(cp.byte_shuffle(np.empty(0, np.int64)), cp.INT64).size == 0


def test_missing_optional_packages_are_skipped_with_a_note(monkeypatch):
    monkeypatch.setattr(cp, "optional_module", lambda name: None)
    peers, notes = cp.available_peers(cp.PEER_GROUPS)
    assert {p.group for p in peers} == set(STDLIB_GROUPS)
    assert "zstandard not installed: pip install -r benchmarks/requirements-peers.txt" in notes
    assert len(notes) == 3


def test_command_line_writes_verified_json_rows(tmp_path, capsys):
    target = tmp_path / "rows.json"
    cp.main(["--series", "3", "--points", "300", "--repeat", "1", "--peers", "project,stdlib",
             "--json", str(target)])
    out = capsys.readouterr().out
    assert "smallest:" in out and cp.PROJECT_FILE_PEER in out
    rows = json.loads(target.read_text())
    assert rows and all(r["verified"] for r in rows)
    assert {r["points"] for r in rows} == {sum(len(s) for s in generate_dataset(3, 300))}


def test_unknown_peer_group_is_a_usage_error():
    with pytest.raises(SystemExit) as info:
        cp.parse_args(["--peers", "stdlib,nonsense"])
    assert info.value.code == 2


def test_speed_ratios_are_relative_to_zstd3_plain_in_the_same_run():
    reference = cp.Row(cp.REFERENCE_PEER, "zstd", 1000, encode_seconds=0.01, decode_seconds=0.002, verified=True)
    slower = cp.Row("slow", "project", 1000, encode_seconds=0.04, decode_seconds=0.010, verified=True)
    failed = cp.Row("broken", "project", 1000, encode_seconds=0.04, decode_seconds=0.010, verified=False)
    cp.add_speed_ratios([slower, reference, failed])
    assert (slower.encode_ratio, slower.decode_ratio) == (0.25, 0.2)
    assert (reference.encode_ratio, reference.decode_ratio) == (1.0, 1.0)
    assert failed.encode_ratio is None
    assert "0.250" in cp.format_table([slower]) and "0.200" in cp.format_table([slower])
