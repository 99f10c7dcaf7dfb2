"""benchmarks/tsdb_processes.py with small Python servers standing in for the databases: started in
a group of their own, ready when they answer, refused when they listen beyond loopback, always
stopped; sizes on disk with sparse files; waiting for a size to settle."""
import os
import signal
import socket
import sys
import time

import pytest

from benchmarks.tsdb_processes import (
    Server, SystemFailure, disk_bytes, free_port, listening_addresses, proc_net_address, run_tool, settle,
    stop_on_signals,
)

needs_proc = pytest.mark.skipif(not os.path.exists("/proc/self/net/tcp"), reason="reads Linux' /proc")


def http_server(port, address="127.0.0.1"):
    return [sys.executable, "-m", "http.server", "--bind", address, str(port)]


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def wait_gone(pid, seconds=5):
    deadline = time.monotonic() + seconds
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not alive(pid)


@needs_proc
def test_a_server_is_ready_listens_on_loopback_only_and_is_stopped(tmp_path):
    port = free_port()
    with Server("web", http_server(port), tmp_path / "web.log", tmp_path) as server:
        server.wait_ready(f"http://127.0.0.1:{port}/")
        server.check_loopback_only()
        assert ("127.0.0.1", port) in listening_addresses(server.process.pid)
        assert os.getpgid(server.process.pid) == server.process.pid  # a process group of its own
        pid = server.process.pid
    assert wait_gone(pid)


@needs_proc
def test_a_server_listening_on_every_address_is_refused_and_still_stopped(tmp_path):
    port = free_port()
    with pytest.raises(SystemFailure, match=f"listens on 0.0.0.0:{port}, beyond 127.0.0.1"):
        with Server("open", http_server(port, "0.0.0.0"), tmp_path / "open.log", tmp_path) as server:
            pid = None
            server.wait_ready(f"http://127.0.0.1:{port}/")
            pid = server.process.pid
            server.check_loopback_only()
    assert pid is not None and wait_gone(pid)


def test_a_server_that_exits_is_reported_with_its_log(tmp_path):
    argv = [sys.executable, "-c", "import sys; print('no config here'); sys.exit(3)"]
    with pytest.raises(SystemFailure, match="exited with code 3: no config here"):
        with Server("broken", argv, tmp_path / "broken.log", tmp_path) as server:
            server.wait_ready(f"http://127.0.0.1:{free_port()}/", seconds=10)


def test_ctrl_c_inside_the_block_stops_the_server(tmp_path):
    argv = [sys.executable, "-c", "import time; time.sleep(60)"]
    with pytest.raises(KeyboardInterrupt):
        with Server("sleeper", argv, tmp_path / "s.log", tmp_path) as server:
            pid = server.process.pid
            raise KeyboardInterrupt
    assert wait_gone(pid)


def test_a_server_ignoring_sigterm_is_killed(tmp_path, monkeypatch):
    monkeypatch.setattr("benchmarks.tsdb_processes.STOP_SECONDS", 0.5)
    argv = [sys.executable, "-c",
            "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('up', flush=True); "
            "time.sleep(60)"]
    server = Server("stubborn", argv, tmp_path / "s.log", tmp_path)
    with server:
        deadline = time.monotonic() + 10
        while "up" not in (tmp_path / "s.log").read_text() and time.monotonic() < deadline:
            time.sleep(0.05)
    assert server.process.returncode == -signal.SIGKILL


def test_run_tool_reports_a_failure_with_its_errors(tmp_path):
    argv = [sys.executable, "-c", "import sys; sys.stderr.write('bad input line 3\\n'); sys.exit(1)"]
    with pytest.raises(SystemFailure, match="tool failed \\(exit 1\\): bad input line 3"):
        run_tool("tool", argv, tmp_path / "out.txt", tmp_path, seconds=30)
    run_tool("tool", [sys.executable, "-c", "print('fine')"], tmp_path / "ok.txt", tmp_path, seconds=30)
    assert (tmp_path / "ok.txt").read_text() == "fine\n"


def test_sigterm_becomes_keyboard_interrupt_within_the_block_only():
    with pytest.raises(KeyboardInterrupt):
        with stop_on_signals():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL


def test_disk_bytes_counts_files_and_sparse_files_up_to_their_data(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "one").write_bytes(b"x" * 1000)
    (tmp_path / "two").write_bytes(b"\0" * 10)  # not sparse: all of it counts, zeros too
    sparse = tmp_path / "a" / "sparse"
    with open(sparse, "wb") as f:
        f.write(b"data\0\0x")
        f.truncate(4 << 20)
    expected_sparse = 7 if os.stat(sparse).st_blocks * 512 < 4 << 20 else 4 << 20
    assert disk_bytes(tmp_path) == 1000 + 10 + expected_sparse
    assert disk_bytes(tmp_path / "a" / "one") == 1000
    assert disk_bytes(tmp_path / "nothing") == 0


def test_settle_waits_for_the_same_value_several_times():
    readings = iter([1, 2, 3, 3, 3, 3, 3, 9])
    assert settle(lambda: next(readings), interval=0, quiet_polls=4) == 3
    growing = iter(range(10**6))
    with pytest.raises(SystemFailure, match="still changes"):
        settle(lambda: next(growing), interval=0.01, seconds=0.2)


def test_proc_net_addresses():
    assert proc_net_address("0100007F:1F90") == ("127.0.0.1", 8080)
    assert proc_net_address("00000000:0035") == ("0.0.0.0", 53)
    assert proc_net_address("00000000000000000000000001000000:0050") == ("::1", 80)
    assert proc_net_address("0000000000000000FFFF00000100007F:0050") == ("127.0.0.1", 80)


@needs_proc
def test_listening_addresses_of_this_process():
    with socket.socket() as listener, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        udp.bind(("127.0.0.2", 0))
        found = listening_addresses(os.getpid())
        assert ("127.0.0.1", listener.getsockname()[1]) in found
        assert ("127.0.0.2", udp.getsockname()[1]) in found
