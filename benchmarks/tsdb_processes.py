"""Running real database servers for a benchmark, and always stopping them.

A server here is started on 127.0.0.1, on a port the kernel just said was free, with its data in a
temporary folder and a clean environment (no INFLUXDB_* or other variables that would change its
configuration). It runs in a process group of its own, so that stopping it stops everything it
started; and the kernel is asked to send it SIGTERM if this Python process dies without cleaning up
(Linux' PR_SET_PDEATHSIG), so not even `kill -9` of the benchmark leaves a server running.

    with Server("victoria-metrics", argv, log_path) as server:
        server.wait_ready("http://127.0.0.1:8428/health")
        ...                             # stopped here on return, on an error and on Ctrl-C

`stop_on_signals()` turns SIGTERM and SIGHUP into KeyboardInterrupt, so those take the same
`finally` path as Ctrl-C. `listening_addresses(pid)` reads /proc to check that a server listens on
nothing but the loopback addresses. `disk_bytes` counts what a folder holds on disk, a sparse
preallocated file only up to its last byte that is not zero (the data written into it).
"""
import contextlib
import ctypes
import ipaddress
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

STOP_SECONDS = 30  # a polite SIGTERM first; a server that takes longer is killed
READY_SECONDS = 60
PR_SET_PDEATHSIG = 1
LOG_TAIL_LINES = 5
# Never through a proxy: every request of the benchmark goes to a server on this machine.
_LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class SystemFailure(Exception):
    """A database that was installed but could not do its part: its row reports this message."""


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def clean_environment(home):
    """The environment of a database process: a path to find programs, a home of its own, UTC."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "LANG": "C.UTF-8",
            "TZ": "UTC"}


def _die_with_parent():
    """In the child, before exec: a new process group, and SIGTERM when the parent dies."""
    os.setpgid(0, 0)
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def stop_group(process, seconds=None):
    """SIGTERM to the process's group, then SIGKILL if it has not ended after `seconds` (STOP_SECONDS)."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(STOP_SECONDS if seconds is None else seconds)
    except subprocess.TimeoutExpired:
        _kill_group(process)
    except KeyboardInterrupt:  # a second Ctrl-C while waiting: no more patience, but still no server left
        _kill_group(process)
        raise


def _kill_group(process):
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


class Server:
    """One database server process, stopped on leaving the `with` block whatever happens."""

    def __init__(self, name, argv, log_path, home):
        self.name, self.argv, self.log_path, self.home = name, argv, Path(log_path), home
        self.process = None

    def __enter__(self):
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=log,
                                            stderr=subprocess.STDOUT, env=clean_environment(self.home),
                                            cwd=self.home, preexec_fn=_die_with_parent)
        return self

    def __exit__(self, *exc_info):
        stop_group(self.process)

    def wait_ready(self, url, seconds=READY_SECONDS):
        """Poll `url` until it answers 2xx; fail if the server exits or `seconds` pass."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                code = self.process.returncode
                raise SystemFailure(f"{self.name} exited with code {code}: {self.log_tail()}")
            with contextlib.suppress(OSError):
                with _LOCAL.open(url, timeout=2) as answer:
                    if 200 <= answer.status < 300:
                        return
            time.sleep(0.1)
        raise SystemFailure(f"{self.name} not ready after {seconds} s: {self.log_tail()}")

    def check_loopback_only(self):
        """Fail if the server listens anywhere but on the loopback addresses."""
        outside = [f"{address}:{port}" for address, port in listening_addresses(self.process.pid)
                   if not ipaddress.ip_address(address).is_loopback]
        if outside:
            raise SystemFailure(f"{self.name} listens on {', '.join(outside)}, beyond 127.0.0.1; stopped it")

    def log_tail(self):
        lines = self.log_path.read_text(errors="replace").strip().splitlines()
        return " | ".join(lines[-LOG_TAIL_LINES:]) or "(nothing in its log)"


def run_tool(name, argv, stdout_path, home, seconds):
    """Run a one-shot program in its own process group (stopped on Ctrl-C or after `seconds`);
    its output goes to `stdout_path`, and a non-zero exit is a SystemFailure quoting its errors."""
    with open(stdout_path, "wb") as out, open(Path(stdout_path).with_suffix(".err"), "w+b") as err:
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                   env=clean_environment(home), cwd=home, preexec_fn=_die_with_parent)
        try:
            code = process.wait(seconds)
        except subprocess.TimeoutExpired:
            raise SystemFailure(f"{name} did not finish in {seconds} s") from None
        finally:
            stop_group(process)
        if code != 0:
            err.seek(0)
            message = " | ".join(err.read().decode(errors="replace").strip().splitlines()[-LOG_TAIL_LINES:])
            raise SystemFailure(f"{name} failed (exit {code}): {message}")


@contextlib.contextmanager
def stop_on_signals(signals=(signal.SIGTERM, signal.SIGHUP)):
    """Within the block, these signals raise KeyboardInterrupt, as Ctrl-C does, so `finally` runs."""
    def interrupt(signum, _frame):
        raise KeyboardInterrupt(signal.Signals(signum).name)

    previous = {s: signal.signal(s, interrupt) for s in signals}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


# HTTP to the local servers

def http(url, data=None, seconds=600, headers=None):
    """The body of a request to a local server (POST when `data` is given); SystemFailure on an error."""
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with _LOCAL.open(request, timeout=seconds) as answer:
            return answer.read()
    except urllib.error.HTTPError as exc:
        body = exc.read().decode(errors="replace").strip()[:300]
        raise SystemFailure(f"{url.split('?')[0]} answered {exc.code}: {body}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise SystemFailure(f"{url.split('?')[0]}: {exc}") from None


def http_lines(url, seconds=600):
    """The lines of a (long) answer, read as they arrive."""
    try:
        with _LOCAL.open(urllib.request.Request(url), timeout=seconds) as answer:
            for line in answer:
                yield line.decode("utf-8")
    except urllib.error.HTTPError as exc:
        raise SystemFailure(f"{url.split('?')[0]} answered {exc.code}: {exc.read()[:300]!r}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise SystemFailure(f"{url.split('?')[0]}: {exc}") from None


# What is on disk

def disk_bytes(path):
    """The bytes of the regular files at or under `path` (0 if there is none); a sparse file, one with
    fewer blocks on disk than its length says (preallocated), counts up to its last non-zero byte."""
    path = Path(path)
    files = [path] if path.is_file() else sorted(path.rglob("*")) if path.is_dir() else []
    total = 0
    for file in files:
        with contextlib.suppress(FileNotFoundError):  # a server may remove a merged file meanwhile
            if file.is_file() and not file.is_symlink():
                total += file_bytes(file)
    return total


def file_bytes(path):
    status = path.stat()
    if status.st_blocks * 512 >= status.st_size:
        return status.st_size
    return len(path.read_bytes().rstrip(b"\0"))


def settle(measure, interval=0.5, quiet_polls=4, seconds=300):
    """Poll `measure()` until it returns the same value `quiet_polls` times in a row; that value."""
    deadline = time.monotonic() + seconds
    last, same = measure(), 0
    while same < quiet_polls:
        if time.monotonic() > deadline:
            raise SystemFailure(f"the size on disk still changes after {seconds} s")
        time.sleep(interval)
        current = measure()
        same = same + 1 if current == last else 0
        last = current
    return last


# What a process listens on (Linux)

def listening_addresses(pid):
    """(address, port) of every listening TCP socket and bound UDP socket of process `pid`."""
    inodes = set()
    fd_folder = Path(f"/proc/{pid}/fd")
    for fd in fd_folder.iterdir() if fd_folder.exists() else ():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[len("socket:["):-1])
    found = []
    for table, listening_state in (("tcp", "0A"), ("tcp6", "0A"), ("udp", "07"), ("udp6", "07")):
        path = Path(f"/proc/{pid}/net/{table}")
        for line in path.read_text().splitlines()[1:] if path.exists() else ():
            fields = line.split()
            if fields[3] == listening_state and fields[9] in inodes:
                found.append(proc_net_address(fields[1]))
    return found


def proc_net_address(text):
    """'0100007F:1F90' -> ('127.0.0.1', 8080): /proc/net's hex, each 32-bit word in host byte order."""
    address_hex, port_hex = text.split(":")
    raw = bytes.fromhex(address_hex)
    words = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4)) if sys.byteorder == "little" else raw
    address = ipaddress.ip_address(words)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return str(address), int(port_hex, 16)
