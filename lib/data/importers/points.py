"""Where the readers put the points they find: a sink, which either collects them or streams them on.

Every reader talks to a sink the same way: `sink.columns(name, labels)` hands out the
(timestamps, values) arrays of one series to append to, and `sink.chunk_done()` (passed to
files.text_lines, and called once more after each file) says that the points appended so far are
complete and may move on; `sink.finish()` comes after the last file. Two sinks:

- `Collector` keeps everything (import_paths, the phase-0 dataset): a series met in several files
  (or several times in one file) is one series, its points concatenated in reading order.
- `WriterSink` empties the arrays into a writer (lib/storage/streaming_writer.py's
  StreamingWriter) at the first `chunk_done` after they hold MOVE_POINTS points in all, and at
  `finish`, so an import holds about MOVE_POINTS points and a chunk of text at a time, and a file
  larger than memory can be compressed. Moving a few dozen points of each series at a time, not
  a few, keeps the per-call cost of the writer small.

Points are kept as given. Duplicate and out-of-order timestamps stay in file order (every codec
in the project is lossless for them) and each affected series gets one warning with the counts.

Memory: points accumulate in `array.array` columns (8 bytes a point each) and become numpy arrays
without a copy, so a million-point import into a Collector costs about 16 MB.
"""
from array import array

import numpy as np

from lib.data.dataset import Series, display_name, series_key

UNNAMED_METRIC = "unnamed"  # the name of a series whose source gives it none
MOVE_POINTS = 1 << 16  # a WriterSink hands points on once it holds this many (1 MiB of arrays)


class PointBuffers:
    """Append arrays per series identity, in the order series were first met."""

    def __init__(self):
        self._series = {}

    def columns(self, name, labels):
        """The (timestamps, values) arrays to append this series' points to."""
        key = series_key(name, labels)
        entry = self._series.get(key)
        if entry is None:
            entry = self._series[key] = (name, dict(labels), array("q"), array("d"))
        return entry[2], entry[3]

    def chunk_done(self):
        """The points appended so far are complete (see the module docstring)."""

    def finish(self):
        """Every file has been read."""


class Collector(PointBuffers):
    """Every point of the import, in memory, until `to_series`."""

    def to_series(self):
        # np.frombuffer shares the arrays' memory instead of copying a million points.
        return [
            Series(name, labels, np.frombuffer(ts, dtype=np.int64), np.frombuffer(vs, dtype=np.float64))
            for name, labels, ts, vs in self._series.values()
            if len(ts)
        ]


class WriterSink(PointBuffers):
    """Moves the points into `writer.add(name, labels, timestamps, values)` between chunks of text,
    counting repeated and decreasing timestamps on the way (each compared with the one before it)."""

    def __init__(self, writer):
        super().__init__()
        self.writer = writer
        self.points = 0
        self._order = {}  # series key -> [last timestamp, repeated, earlier than the one before]

    def chunk_done(self):
        if sum(len(entry[2]) for entry in self._series.values()) >= MOVE_POINTS:
            self.finish()

    def finish(self):
        """Hand every point held on to the writer."""
        for key, (name, labels, timestamps, values) in self._series.items():
            if not timestamps:
                continue
            moved = np.frombuffer(timestamps, dtype=np.int64).copy(), np.frombuffer(values, dtype=np.float64).copy()
            del timestamps[:], values[:]  # the arrays keep their place in the readers' hands, empty
            self._count_order(key, moved[0])
            self.writer.add(name, labels, *moved)
            self.points += len(moved[0])

    def _count_order(self, key, timestamps):
        counts = self._order.setdefault(key, [None, 0, 0])
        previous = timestamps[:-1] if counts[0] is None else np.concatenate(([counts[0]], timestamps[:-1]))
        following = timestamps[1:] if counts[0] is None else timestamps
        counts[1] += int(np.count_nonzero(following == previous))  # comparisons: a difference could overflow
        counts[2] += int(np.count_nonzero(following < previous))
        counts[0] = int(timestamps[-1])

    def order_warnings(self):
        return [f"{display_name(key[0], dict(key[1]))}: {repeated} timestamps equal to the one before and "
                f"{earlier} earlier than the one before, kept as given"
                for key, (_, repeated, earlier) in self._order.items() if repeated or earlier]


def order_warnings(series_list):
    warnings = []
    for s in series_list:
        # Comparisons, not np.diff: a difference of int64 timestamps can overflow.
        earlier, later = s.timestamps[:-1], s.timestamps[1:]
        out_of_order = int(np.count_nonzero(later < earlier))
        if out_of_order:
            duplicates = len(s) - len(np.unique(s.timestamps))
        else:  # in order, so equal timestamps are neighbours; no sorted copy needed
            duplicates = int(np.count_nonzero(later == earlier))
        if duplicates or out_of_order:
            warnings.append(
                f"{s.display_name()}: {duplicates} duplicate and {out_of_order} out-of-order "
                f"timestamps, kept as given"
            )
    return warnings
