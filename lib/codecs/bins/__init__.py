"""Bins: an entropy coder for small unsigned integers that numpy can run without a per-value loop.

The idea (pcodec's, simplified)
-------------------------------
After the decimal codec's transforms a block is a list of residuals: unsigned integers that are
mostly small and sometimes large. Bit packing gives every residual the width of the widest; a
general-purpose compressor adapts, but it is slow and sees bytes, not numbers. Bins split each
integer into two parts:

- its BIN, a coarse class: the bit length of the integer plus its next `p` bits (p = 0..3,
  chosen per stream). Small integers (bit length <= p + 1) are a bin of their own.
  Example, p = 1: 0, 1, 2 and 3 are bins of their own; 4..5 (100, 101) is one bin, 6..7 another,
  8..11 (1000..1011) one, 12..15 the next, and so on.
- its OFFSET inside the bin: the bits below the bin's, stored raw (they are close to random).

The bins are entropy-coded: they are ranked by how often they occur in the stream, and rank r is
written in unary, r zero bits and a one. The most common bin costs 1 bit, the next 2, ... That is a
Huffman code whenever each bin is at most half as common as the one before, and close to one for
the peaked distributions residuals have. When many bins are about equally common, the rank is
split (Rice coding): its low s bits (s = 0..3) go into a fixed-width section and only r >> s is
written in unary. A stream whose values all fall into one bin spends no bits on bins at all.
Because every unary code ends in a one, the decoder finds all codes at once: the positions of the
one bits (`np.flatnonzero`) give the ranks, the ranks the offset widths, a cumulative sum the
offsets' positions. No value depends on decoding the one before it.

Values that are mostly zero (a regular scrape: its timestamp jitter is 0 most of the time) would
still cost a bit each, so a second mode codes them SPARSE: the lengths of the zero runs between
the non-zero values, then the non-zero values minus one, each as a dense stream. Sparse is used
outright when fewer than a quarter of the values are non-zero, never when half or more are, and
in between whichever is smaller. The encoder computes the exact size of every choice (mode, p and
s) from one histogram and writes only the smallest, so choosing costs no trial encodings; on a tie
the smaller p, then the smaller s wins.

Layout of one stream (the caller knows the count n; docs/format.md, "Bins stream", is normative)
----------------------------------------------------------------------------------------------
    u8  mode: 0 dense, 1 sparse
    dense:  u8 p | s << 4, varint B (bins used), B varints bin keys in rank order,
            [B > 1: varint U, U bytes: the n unary codes of rank >> s, MSB-first, zero-padded,
                    then ceil(n * s / 8) bytes: the low s bits of every rank, MSB-first]
            offset bits of every value, MSB-first, zero-padded to a whole byte
    sparse: varint N (non-zero values), dense stream of the N + 1 zero-run lengths,
            dense stream of the N non-zero values minus one

Bin keys number the bins in order: key k < 2**(p+1) is the integer k itself; above that, key
2**(p+1) + ((L - p - 2) << p) + (t - 2**p) is the bin of integers with bit length L whose top
p + 1 bits are t; its offsets have L - 1 - p bits. Worked example, values [0, 5, 4, 5]: at p = 0
the bins are 0 (key 0) and "bit length 3" (key 2 + (3 - 0 - 2) + 1 - 1 = 3), counts 1 and 3, so
rank 0 is key 3, rank 1 key 0 (p = 1 gives the same size, and the smaller p wins the tie; s = 0).
Header 00 00 02 03 00; unary codes 01 1 1 1 -> 0111 1000 = 0x78 (U = 01); offsets of 5, 4, 5 in
2 bits each: 01 00 01 -> 0100 0100 = 0x44. Eight bytes in all; the tests spell it out.

The package, shaped like lib/codecs/gorilla/:

    layout.py      the stream's nouns: modes, precisions, bin keys, the header and the checks
                   every reader makes
    reference.py   the readable definition, one value at a time with Python integers; it also
                   writes the short streams (the zero runs of a block), where numpy's fixed cost
                   per call would dominate
    fast.py        the same bytes with numpy for whole arrays: every choice sized from one
                   histogram, the stream read without a loop per value; what the project runs
    batched.py     many short streams read in one numpy pass (a whole-file read)
    anatomy.py     where a stream's bytes go (header, unary codes, low bits, offsets), for reports

The tests prove that fast and reference write identical bytes and read the same values, and that
the batched reader agrees with both, on random and damaged streams.
"""
from lib.codecs.bins.fast import (
    BINS, bins_plan, decode_bins, decode_bins_parts, encode_bins, write_planned,
)
from lib.codecs.bins.reference import decode_bins_reference, encode_bins_reference

__all__ = ["BINS", "bins_plan", "write_planned", "decode_bins", "decode_bins_parts", "encode_bins",
           "decode_bins_reference", "encode_bins_reference"]
