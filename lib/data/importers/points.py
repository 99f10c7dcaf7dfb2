"""Collecting the points every reader finds into series, and the warnings about their order.

Points are kept as given. Duplicate and out-of-order timestamps stay in file order (every codec
in the project is lossless for them) and each affected series gets one warning with the counts.
A series met in several files (or several times in one file) is one series, its points
concatenated in reading order.

Memory: points accumulate in `array.array` columns (8 bytes a point each) and become numpy arrays
without a copy, so a million-point import costs about 16 MB.
"""
from array import array

import numpy as np

from lib.data.dataset import Series, series_key

UNNAMED_METRIC = "unnamed"  # the name of a series whose source gives it none


class Collector:
    """Points per series identity, in compact typed arrays, in the order they were read."""

    def __init__(self):
        self._series = {}

    def columns(self, name, labels):
        """The (timestamps, values) arrays to append this series' points to."""
        key = series_key(name, labels)
        entry = self._series.get(key)
        if entry is None:
            entry = self._series[key] = (name, dict(labels), array("q"), array("d"))
        return entry[2], entry[3]

    def to_series(self):
        # np.frombuffer shares the arrays' memory instead of copying a million points.
        return [
            Series(name, labels, np.frombuffer(ts, dtype=np.int64), np.frombuffer(vs, dtype=np.float64))
            for name, labels, ts, vs in self._series.values()
            if len(ts)
        ]


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
