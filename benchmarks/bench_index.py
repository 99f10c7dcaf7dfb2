"""What a METRICS! file pays besides its streams: header, index, footer and block framing, per point.

Version 3 stores the index as varint columns (lib/storage/index_section.py) where version 2 stored
fixed-width records. This writes each dataset once with today's writer and measures the index it
wrote; the version-2 index of the very same entries is packed here from docs/format.md ("Version-2
index") and deflated the same way, so the two sizes describe the same blocks. Block framing (each
block's 10-byte header and 4-byte CRC) is the same in both versions.

    python benchmarks/bench_index.py                         # high_cardinality and the default dataset
    python benchmarks/bench_index.py --classes constants regular_ns

high_cardinality (benchmarks/corpus.py) is 10,000 series of 120 points, one block each: the data
where the index costs most per point.
"""
import argparse
import struct
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import corpus  # noqa: E402
from lib.data.dataset import total_points  # noqa: E402
from lib.data.generator import DEFAULT_SIZE, SIZES, generate_dataset  # noqa: E402
from lib.storage.file_layout import CRC, HEADER_V2, pack_index_section  # noqa: E402
from lib.storage.metrics_file import BLOCK_HEADER, MetricsFile  # noqa: E402
from lib.storage.streaming_writer import write_file  # noqa: E402

DEFAULT_DATASET = "default"


def version_2_index(entries):
    """The version-2 index of these series entries, record by record as docs/format.md lays it out."""
    strings = {}
    for entry in entries:
        for text in (entry.name, *[t for pair in sorted(entry.labels.items()) for t in pair]):
            strings.setdefault(text, len(strings))
    parts = [struct.pack("<I", len(strings))]
    parts += [struct.pack("<I", len(t.encode())) + t.encode() for t in strings]
    parts.append(struct.pack("<I", len(entries)))
    for e in entries:
        parts.append(struct.pack("<IH", strings[e.name], len(e.labels)))
        parts += [struct.pack("<II", strings[k], strings[v]) for k, v in sorted(e.labels.items())]
        parts.append(struct.pack("<QqqI", e.points, e.min_timestamp, e.max_timestamp, len(e.blocks)))
        parts += [struct.pack("<QIIqq", b.offset, b.length, b.points, b.min_timestamp, b.max_timestamp)
                  for b in e.blocks]
    return b"".join(parts)


def measure(label, series_list):
    points = total_points(series_list)
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "m.bin"
        size = write_file(path, series_list)
        with MetricsFile(path) as f:
            layout, entries = f.layout, f.series
    blocks = sum(len(e.blocks) for e in entries)
    framing = blocks * (BLOCK_HEADER.size + CRC.size)
    v2 = HEADER_V2.size + len(pack_index_section(version_2_index(entries))) + CRC.size
    v3 = layout.overhead
    return {"dataset": label, "points": points, "series": len(entries), "blocks": blocks, "file": size,
            "v2": v2, "v3": v3, "framing": framing}


def print_table(rows):
    print(f"{'dataset':<18} {'points':>10} {'series':>7} {'blocks':>7}  {'index v2':>9} {'index v3':>9}  "
          f"{'B/pt v2':>8} {'B/pt v3':>8}  {'framing B/pt':>12}  {'all but streams, B/pt: v2 -> v3':>32}")
    for r in rows:
        per = {k: r[k] / r["points"] for k in ("v2", "v3", "framing")}
        print(f"{r['dataset']:<18} {r['points']:>10,} {r['series']:>7,} {r['blocks']:>7,}  {r['v2']:>9,} {r['v3']:>9,}  "
              f"{per['v2']:>8.4f} {per['v3']:>8.4f}  {per['framing']:>12.4f}  "
              f"{per['v2'] + per['framing']:>22.4f} -> {per['v3'] + per['framing']:.4f}")
    print("index = header, index section and CRC (v2) or footer (v3); framing = 14 bytes a block, both versions")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--classes", nargs="+", default=["high_cardinality", DEFAULT_DATASET],
                        help=f"corpus classes, or {DEFAULT_DATASET!r} for main.py's dataset")
    args = parser.parse_args()
    rows = []
    for name in args.classes:
        series_list = generate_dataset(*SIZES[DEFAULT_SIZE]) if name == DEFAULT_DATASET else corpus.build(name)
        rows.append(measure(name, series_list))
    print_table(rows)


if __name__ == "__main__":
    main()
