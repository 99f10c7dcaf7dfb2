"""Shared pieces of squeezed-signals, one package per job; each module states its role in its docstring.

LAYERS lists the packages from the bottom up. A module imports only from its own layer or the
layers before it (tests/test_layers.py checks every import), so each file can be read knowing only
what comes before it: the bit streams know nothing of codecs, the codecs nothing of files.
"""

LAYERS = (
    (("errors",), "the one error type for damaged or invalid input"),
    (("plumbing",), "atomic writes, regular-file checks, the output lock, progress, bounded decompression, "
                    "safe msgpack"),
    (("data.dataset",), "the data model: Series, load, save, bit-exact comparison"),
    (("bitstream",), "MSB-first bit streams, packing whole arrays of bit fields at once, zigzag and varints"),
    (("codecs",), "delta and run-length transforms, Gorilla (reference and fast path), decimals, byte planes, "
                  "the bins entropy coder, the value and timestamp codecs, their tags and the choice per block"),
    (("storage.file_layout", "storage.index_section", "storage.metrics_file", "storage.streaming_writer"),
     "the METRICS! file (its layout: docs/format.md): sections and index, blocks and the reader, the streaming writer"),
    (("rollup",), "buckets, metric kinds, exact sums, DDSketch, the levels of roll-ups, query planning"),
    (("storage.rollup_files",), "roll-ups on disk, one METRICS! file per resolution"),
    (("retention",), "tiers, the cost of a workload over time, timed long-range queries"),
    (("data.generator", "data.importers", "data.exporters", "data.ndjson", "report", "runner", "tool"),
     "datasets in (generator, importers, phase 1's NDJSON) and out (exporters), tables, the report page, "
     "running the phases, squeeze.py's commands"),
)
