"""The cost projection, checked against sums worked out by hand."""
import pytest

from lib.data.dataset import HOUR_NS, MINUTE_NS
from lib.retention.policy import RetentionPolicy
from lib.retention.projection import (
    MeasuredCosts, Workload, assumptions, project, retained_bytes, storage_over_time,
)
from lib.rollup.kinds import COUNTER, GAUGE

COSTS = MeasuredCosts(
    kind_share={GAUGE: 0.5, COUNTER: 0.5},
    raw_bytes_per_point={GAUGE: 3.0, COUNTER: 1.0},  # mixed: 2.0 bytes per point
    bucket_bytes={MINUTE_NS: {GAUGE: 10.0, COUNTER: 2.0}, HOUR_NS: {GAUGE: 100.0, COUNTER: 20.0}},
    ndjson_bytes_per_point=100.0,
    points_per_bucket={MINUTE_NS: 4.0, HOUR_NS: 240.0},
    buckets_per_series={MINUTE_NS: 300, HOUR_NS: 5},
)


def test_workload_points_and_buckets_per_day():
    w = Workload(10, 15)
    assert w.points_per_day() == 10 * 5760
    assert w.buckets_per_day(MINUTE_NS) == 10 * 1440
    assert Workload(10, 120).buckets_per_day(MINUTE_NS) == 10 * 720  # one point every 2 min: half the minutes
    with pytest.raises(ValueError):
        Workload(0, 15)


def test_projection_by_hand():
    workload = Workload(1, 60)  # 1,440 points a day; 1,440 minute buckets; 24 hour buckets
    policy = RetentionPolicy.parse("raw=2d,1m=10d,1h=1y")
    rows = project(COSTS, workload, policy, days=365).rows
    assert rows[0][1:] == (1440 * 100.0, 1440 * 100.0 * 365)
    assert rows[1][1:] == (1440 * 2.0, 1440 * 2.0 * 365)
    raw_day, minute_day, hour_day = 1440 * 2.0, 1440 * 6.0, 24 * 60.0
    assert rows[2][1] == pytest.approx(raw_day + minute_day + hour_day)
    assert rows[2][2] == pytest.approx(raw_day * 2 + minute_day * 10 + hour_day * 365)
    # After a day, every tier still holds everything it received.
    assert retained_bytes(COSTS, workload, policy, 1) == pytest.approx(raw_day + minute_day + hour_day)
    assert any("1,440 points a day" in line for line in assumptions(COSTS, workload, policy))


def test_storage_over_time_by_hand():
    workload = Workload(1, 60)
    policy = RetentionPolicy.parse("raw=2d,1m=10d,1h=1y")
    curve = storage_over_time(COSTS, workload, policy, days=(1, 5, 400))
    raw_day, minute_day, hour_day = 1440 * 2.0, 1440 * 6.0, 24 * 60.0
    assert curve["days"] == [1, 5, 400] and curve["policy"] == str(policy)
    assert curve["tiers"] == [["raw", 2.0], ["1m", 10.0], ["1h", 365.0]]
    assert curve["every_point_bytes"] == [2880, 5 * 2880, 400 * 2880]
    assert curve["tiered_bytes"] == [round(raw_day + minute_day + hour_day),
                                     round(2 * raw_day + 5 * minute_day + 5 * hour_day),
                                     round(2 * raw_day + 10 * minute_day + 365 * hour_day)]
