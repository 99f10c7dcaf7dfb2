"""benchmarks/bench_block_costs.py: its parts add up to the whole run, and it leaves the writer as it was."""
import time
from types import SimpleNamespace

import numpy as np
import pytest

from benchmarks import bench_block_costs, corpus
from lib.data.dataset import Series
from lib.storage import metrics_file


def test_each_part_is_timed_within_the_run_and_the_timed_functions_are_put_back(tmp_path):
    originals = {(module, name): getattr(module, name) for module, name in (*bench_block_costs.WRITE_PARTS,
                                                                            *bench_block_costs.READ_PARTS)}
    series = [Series("load", {"host": str(n)}, 15 * np.arange(300, dtype=np.int64), np.arange(300) / 4)
              for n in range(3)]
    path = tmp_path / "costs.metrics"
    start = time.perf_counter()
    write = bench_block_costs.costs(bench_block_costs.WRITE_PARTS,
                                    lambda: bench_block_costs.write_file(path, series))
    elapsed = time.perf_counter() - start
    assert set(write) == {"timestamps", "values", "rest"}
    assert write["timestamps"] > 0 and write["values"] > 0 and min(write.values()) >= 0
    assert sum(write.values()) <= elapsed
    start = time.perf_counter()
    read = bench_block_costs.costs(bench_block_costs.READ_PARTS, lambda: metrics_file.read_file(path))
    elapsed = time.perf_counter() - start
    assert set(read) == {"dense bins", "decode", "rest"} and read["dense bins"] > 0 and read["decode"] > 0
    assert min(read.values()) >= 0 and sum(read.values()) <= elapsed  # a rest below 0: time counted twice
    for (module, name), function in originals.items():
        assert getattr(module, name) is function


def test_a_timed_call_within_another_counts_for_the_inner_one_only(monkeypatch):
    clock = [0.0]  # a clock the calls below move by hand: inner takes 2 s, outer 1 s of its own

    class Module:
        @staticmethod
        def inner():
            clock[0] += 2

        @staticmethod
        def outer():
            Module.inner()
            clock[0] += 1

    monkeypatch.setattr(bench_block_costs, "time", SimpleNamespace(perf_counter=lambda: clock[0]))
    parts = {(Module, "inner"): "inner", (Module, "outer"): "outer"}
    originals = Module.inner, Module.outer
    assert bench_block_costs.costs(parts, lambda: Module.outer()) == {"inner": 2, "outer": 1, "rest": 0}
    both = bench_block_costs.costs(parts, lambda: (Module.inner(), Module.outer()))
    assert both == {"inner": 4, "outer": 1, "rest": 0}
    assert (Module.inner, Module.outer) == originals

    def outer_failing():
        Module.inner()
        clock[0] += 1
        raise ValueError("a timed call that raises")

    Module.outer = staticmethod(outer_failing)
    with pytest.raises(ValueError):
        bench_block_costs.costs(parts, lambda: Module.outer())
    seconds = {key: 0.0 for key in parts}
    with bench_block_costs.timed_calls(parts, seconds):
        Module.inner()  # the raise above left no call half-counted
    assert seconds == {(Module, "inner"): 2, (Module, "outer"): 0}


def test_it_runs_on_a_shrunk_class(capsys):
    bench_block_costs.main(["--classes", "constants", "--scale", "0.01", "--repeat", "1"])
    lines = capsys.readouterr().out.splitlines()
    series = corpus.get("constants").build(0, 0.01)  # one block a series at this scale
    assert lines[0].startswith(f"constants: {len(series)} series, {len(series)} blocks")
    assert "timestamps" in lines[1] and "values" in lines[1] and "decode" in lines[2]
