"""What a database gave back, point by point: how many points are missing, extra, moved in time or
changed in value, compared with the dataset that was written into it.

A database may drop points, merge two into one, cut a timestamp to milliseconds or round a value,
so the readback cannot be compared position by position. Within each series (same name and labels)
a point is matched in three rounds, each on the points the rounds before left over:

1. the same timestamp (nanoseconds);
2. the same millisecond, where the returned timestamp is a whole millisecond: a point that only
   lost its sub-millisecond digits, as Prometheus and VictoriaMetrics store milliseconds;
3. the same float64 bit pattern, in time order: the value came back, at another time.

Within a group of candidates (several points at one timestamp, say), equal bit patterns pair first,
then the rest in order, so two duplicates that come back swapped are not counted as two changed
values. What is left is missing (written, not returned) or extra (returned, never written). A
matched pair counts as "another timestamp" in rounds 2 and 3 (round 2: sub-millisecond only), and
as "another bit pattern" when its values differ bit for bit (NaN payload only: both are NaN).
Exact means no point in any of these counts.

    written:  t=1_000_000_500 v=1.0    t=2_000_000_000 v=0.1    t=3_000_000_000 v=7.0
    returned: t=1_000_000_000 v=1.0    t=2_000_000_000 v=0.1000000000001
    -> 1 missing, 1 another timestamp (sub-millisecond only), 1 another bit pattern
"""
import math
from collections import defaultdict, deque
from dataclasses import asdict, dataclass, field

import numpy as np

from lib.data.dataset import NS_PER_MS, float_bits


@dataclass
class Mismatches:
    """The counts of one comparison; `examples` holds one description per kind of mismatch."""
    expected: int = 0
    returned: int = 0
    missing: int = 0
    extra: int = 0
    other_timestamp: int = 0
    sub_ms_only: int = 0
    other_bits: int = 0
    nan_payload_only: int = 0
    max_relative_error: float = 0.0  # over finite values that came back changed
    examples: dict = field(default_factory=dict)

    @property
    def exact(self):
        return not (self.missing or self.extra or self.other_timestamp or self.other_bits)

    def add(self, other):
        for name in ("expected", "returned", "missing", "extra", "other_timestamp", "sub_ms_only",
                     "other_bits", "nan_payload_only"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.max_relative_error = max(self.max_relative_error, other.max_relative_error)
        for kind, text in other.examples.items():
            self.examples.setdefault(kind, text)

    def as_json(self):
        fields = asdict(self)
        fields["exact"] = self.exact
        if math.isinf(self.max_relative_error):
            fields["max_relative_error"] = "inf"
        return fields


def count_mismatches(expected, returned):
    """Compare two lists of Series (the written dataset, the readback) and count as the module says."""
    by_key = {s.key: s for s in returned}
    total = Mismatches()
    for s in expected:
        total.add(_series_mismatches(s, by_key.pop(s.key, None)))
    for s in by_key.values():
        extra = Mismatches(returned=len(s), extra=len(s))
        if len(s):
            extra.examples["extra"] = f"{s.display_name()}: {len(s)} points of a series never written"
        total.add(extra)
    return total


def _series_mismatches(written, returned):
    result = Mismatches(expected=len(written), returned=len(returned) if returned is not None else 0)
    if returned is None:
        result.missing = len(written)
        if len(written):
            result.examples["missing"] = f"{written.display_name()}: the whole series ({len(written)} points)"
        return result
    if _same_increasing_timestamps(written, returned):
        _count_values(result, written, returned, np.arange(len(written)), np.arange(len(returned)))
        return result
    return _matched_point_by_point(result, written, returned)


def _same_increasing_timestamps(written, returned):
    """The common case, compared as whole arrays: the same timestamps, each once."""
    return (len(written) == len(returned) and np.array_equal(written.timestamps, returned.timestamps)
            and bool(np.all(written.timestamps[1:] > written.timestamps[:-1])))


def _matched_point_by_point(result, written, returned):
    """The three rounds of the module docstring on one series."""
    w_times, r_times = written.timestamps.tolist(), returned.timestamps.tolist()
    w_bits, r_bits = float_bits(written.values).tolist(), float_bits(returned.values).tolist()
    w_left, r_left = list(range(len(w_times))), list(range(len(r_times)))
    same_time, w_left, r_left = _pair_by(w_left, r_left, w_times.__getitem__, r_times.__getitem__,
                                         w_bits, r_bits)
    def whole_ms(j):
        return r_times[j] // NS_PER_MS if r_times[j] % NS_PER_MS == 0 else None

    same_ms, w_left, r_left = _pair_by(w_left, r_left, lambda i: w_times[i] // NS_PER_MS, whole_ms,
                                       w_bits, r_bits)
    same_value, w_left, r_left = _pair_by(w_left, r_left, w_bits.__getitem__, r_bits.__getitem__,
                                          w_bits, r_bits)
    result.missing, result.extra = len(w_left), len(r_left)
    result.sub_ms_only = len(same_ms)
    result.other_timestamp = len(same_ms) + len(same_value)
    pairs = same_time + same_ms
    _count_values(result, written, returned, [i for i, _ in pairs], [j for _, j in pairs])
    name = written.display_name()
    if w_left:
        i = w_left[0]
        result.examples["missing"] = f"{name}: the point at {w_times[i]} ns ({float(written.values[i])!r})"
    if r_left:
        j = r_left[0]
        result.examples["extra"] = f"{name}: a point at {r_times[j]} ns ({float(returned.values[j])!r})"
    for kind, moved in (("sub_ms_only", same_ms), ("other_timestamp", same_value)):
        if moved:
            i, j = moved[0]
            result.examples[kind] = f"{name}: {w_times[i]} ns came back as {r_times[j]} ns"
    return result


def _pair_by(w_left, r_left, w_key, r_key, w_bits, r_bits):
    """Pair leftover points whose keys are equal (a returned point whose key is None pairs with none);
    returns (pairs, written left over, returned left over), the left-overs in their original order."""
    candidates = defaultdict(list)
    for j in r_left:
        key = r_key(j)
        if key is not None:
            candidates[key].append(j)
    groups = defaultdict(list)
    for i in w_left:
        groups[w_key(i)].append(i)
    pairs = []
    for key, written in groups.items():
        if key in candidates:
            pairs += _pair_group(written, candidates.pop(key), w_bits, r_bits)
    paired_w, paired_r = {i for i, _ in pairs}, {j for _, j in pairs}
    return (sorted(pairs), [i for i in w_left if i not in paired_w], [j for j in r_left if j not in paired_r])


def _pair_group(written, returned, w_bits, r_bits):
    """Pairs within one group: equal bit patterns first, then the rest in order."""
    by_bits = defaultdict(deque)
    for j in returned:
        by_bits[r_bits[j]].append(j)
    pairs, unpaired = [], []
    for i in written:
        if by_bits[w_bits[i]]:
            pairs.append((i, by_bits[w_bits[i]].popleft()))
        else:
            unpaired.append(i)
    taken = {j for _, j in pairs}
    pairs += zip(unpaired, [j for j in returned if j not in taken])
    return pairs


def _count_values(result, written, returned, w_index, r_index):
    """Count the pairs (w_index[k], r_index[k]) whose values differ bit for bit."""
    w_values = written.values[np.asarray(w_index, dtype=np.int64)]
    r_values = returned.values[np.asarray(r_index, dtype=np.int64)]
    changed = np.flatnonzero(float_bits(w_values) != float_bits(r_values))
    if not changed.size:
        return
    result.other_bits = int(changed.size)
    result.nan_payload_only = int(np.count_nonzero(np.isnan(w_values[changed]) & np.isnan(r_values[changed])))
    result.max_relative_error = relative_error(w_values[changed], r_values[changed])
    k = int(changed[0])
    result.examples["other_bits"] = (f"{written.display_name()} at {int(written.timestamps[w_index[k]])} ns: "
                                     f"{float(w_values[k])!r} came back as {float(r_values[k])!r}")


def relative_error(written, returned):
    """The largest |returned - written| / |written| over the finite pairs (a written 0 that came back
    as another number: infinite); 0.0 when no pair is finite."""
    finite = np.isfinite(written) & np.isfinite(returned)
    written, returned = written[finite], returned[finite]
    if not written.size:
        return 0.0
    difference = np.abs(returned - written)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(written != 0, difference / np.abs(written), np.where(difference == 0, 0.0, np.inf))
    return float(ratio.max())
