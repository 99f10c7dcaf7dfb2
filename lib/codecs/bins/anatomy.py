"""Where a bins stream's bytes go, for reports (phase 4 shows one stream's anatomy): the header,
the unary codes of the bin ranks, their low bits and the offsets of a dense stream, or the zero
runs and non-zero values of a sparse one. The stream is read with lib.codecs.bins.fast first, so a
damaged one raises FormatError here as there."""
from lib.codecs.bins.fast import read_dense_sections
from lib.codecs.bins.layout import DENSE, read_header_fields, read_rank_sections, read_sparse_count


def describe_stream(blob, count, offset=0):
    """(parts, end offset) of the bins stream at `offset`, for a report that shows where the bytes
    go: a dense stream's {"mode", "precision", "split", "bins", "header", "unary", "low bits",
    "offsets"} (the last four in bytes); a sparse stream's {"mode", "header", "zero runs",
    "non-zero values"}, the last two such dense parts."""
    if blob[offset] == DENSE:
        parts, end = _describe_dense(blob, offset + 1, count)
        parts["header"] += 1
        return parts, end
    nonzero, runs_at = read_sparse_count(blob, offset, count)
    runs, values_at = _describe_dense(blob, runs_at, nonzero + 1)
    values, end = _describe_dense(blob, values_at, nonzero)
    return {"mode": "sparse", "header": runs_at - offset, "zero runs": runs, "non-zero values": values}, end


def _describe_dense(blob, offset, count):
    precision, split, ranked, after_keys = read_header_fields(blob, offset, count)
    _, end = read_dense_sections(blob, after_keys, count, precision, split, ranked)
    unary = low = 0
    sections_at = after_keys
    if count and len(ranked) > 1:
        unary_span, low_span, _ = read_rank_sections(blob, after_keys, count, len(ranked), split)
        sections_at, unary = unary_span[0], unary_span[1] - unary_span[0]
        low = low_span[1] - low_span[0] if low_span else 0
    parts = {"mode": "dense", "precision": precision, "split": split, "bins": len(ranked),
             "header": sections_at - offset, "unary": unary, "low bits": low}
    parts["offsets"] = end - sections_at - unary - low
    return parts, end
