"""Points kept as given, and the warnings about their order (lib/data/importers/points.py)."""
from lib.data.importers import import_paths
from tests.importer_inputs import T0, write


def test_duplicate_and_out_of_order_timestamps_are_kept_and_reported(tmp_path):
    rows = ["1700000002,1", "1700000001,2", "1700000001,3", "1700000003,4", "1700000002,5"]
    path = write(tmp_path, "h/m.csv", "timestamp,value\n" + "\n".join(rows) + "\n")
    result = import_paths([path])
    [series] = result.series
    assert (series.timestamps // 10**9 - T0).tolist() == [2, 1, 1, 3, 2]
    assert series.values.tolist() == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert result.warnings == ['m{source="h"}: 2 duplicate and 2 out-of-order timestamps, kept as given']


def test_the_same_series_in_several_files_is_concatenated_in_file_order(tmp_path):
    write(tmp_path, "x/host/m.csv", "timestamp,value\n1700000005,1\n1700000006,2\n")
    write(tmp_path, "y/host/m.csv", "timestamp,value\n1700000000,3\n")
    result = import_paths([tmp_path / "x", tmp_path / "y"])
    [series] = result.series
    assert (series.timestamps // 10**9 - T0).tolist() == [5, 6, 0]
    assert series.values.tolist() == [1.0, 2.0, 3.0]
    assert "1 out-of-order" in result.warnings[0]


def test_order_warnings_do_not_overflow_at_the_int64_extremes(tmp_path):
    path = write(tmp_path, "x.lp", "m v=1 -9223372036854775808\nm v=2 9223372036854775807\nm v=3 9223372036854775807\n")
    result = import_paths([path])
    assert result.warnings == ["m_v{}: 1 duplicate and 0 out-of-order timestamps, kept as given"]
