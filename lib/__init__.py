"""Shared pieces of squeezed-signals: data model, encoders, file formats, reporting.

Each module states its role in its docstring. Layers (a module only imports those above it):
  errors, atomic, regular_files, output_lock, progress, bounded_compression, safe_msgpack
  dataset (the data model)
  bits, primitives (zigzag, varint, delta, RLE)
  encoders (Gorilla), decimal_codec, integer_codecs (byte planes, timestamp grid),
    bin_coder (bins entropy coder), value_codecs (the codecs and the choice per block)
  binary_format (the METRICS! file)
  downsampling, rollup_files, retention (tiers), projection (cost of a workload), long_range_queries
  data_generator, importers, reference_compression, report, cli, phases
  report_page (the run in pictures)
"""
