"""A real ``pana serve`` (or any uvicorn app) in its own process group, on loopback.

Load runs and benchmarks talk to the server over TCP exactly as Twilio and
Telegram would, so everything between the socket and the database is
measured. The server runs in a new session, so ``kill()`` can send SIGKILL to
uvicorn's supervisor and all its workers at once, as a crash would::

    server = ServerProcess(env, workers=2, log_path=tmp / "server.log")
    server.start()          # returns once /healthz answers 200
    server.kill()           # kill -9 the whole process group
    server.start()          # same port, same database
    server.stop()
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

PANA = Path(sys.executable).parent / "pana"
STARTUP_SECONDS = 60


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ServerProcess:
    """One server, started and stopped by id; never outlives the run that started it.

    ``command`` defaults to ``pana serve``; ``app`` runs another ASGI app
    (``bench.bare:app``) with the same uvicorn settings ``pana serve`` uses.
    """

    def __init__(
        self,
        env: dict[str, str],
        *,
        workers: int = 1,
        log_path: Path,
        app: str | None = None,
        port: int | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.env = env
        self.workers = workers
        self.log_path = log_path
        self.app = app
        self.port = port or free_port()
        self.cwd = cwd or log_path.parent
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        if self.app is None:
            return [str(PANA), "serve", "--host", "127.0.0.1", "--port", str(self.port),
                    "--workers", str(self.workers)]  # fmt: skip
        # The flags bot/cli.py passes to uvicorn.run, so a bare app is served the same way.
        return [sys.executable, "-m", "uvicorn", self.app, "--host", "127.0.0.1",
                "--port", str(self.port), "--workers", str(self.workers), "--proxy-headers",
                "--no-access-log", "--timeout-graceful-shutdown", "20",
                "--log-level", "warning"]  # fmt: skip

    def start(self, health_path: str = "/healthz") -> None:
        """Start the server and wait until ``health_path`` answers 200."""
        if self.process is not None and self.process.poll() is None:
            raise RuntimeError("server already running")
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command(),
                env=self.env,
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._wait_healthy(health_path)

    def _wait_healthy(self, path: str) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"server exited with {self.process.returncode}:\n{self.log_tail()}"
                )
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + path, timeout=2).status_code == 200:
                    return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server not healthy after {STARTUP_SECONDS}s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 20) -> str:
        """The last lines the server printed (the log folder may not outlive the run)."""
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return "(no log)"

    def kill(self) -> None:
        """SIGKILL the server and its workers (the whole process group), like a crash."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self._reap_group()

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 20 s; safe to call twice."""
        if self.process is None:
            return
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self._reap_group()

    def _reap_group(self) -> None:
        # Workers of a killed supervisor can linger for a moment; the port must be free
        # before the next start, so wait for the group to be empty (bounded).
        assert self.process is not None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.killpg(self.process.pid, 0)
            except ProcessLookupError:
                return
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            time.sleep(0.05)

    def worker_pids(self) -> list[int]:
        """The processes that answer requests: the server itself, or uvicorn's workers."""
        if self.process is None or self.process.poll() is not None:
            return []
        children = [pid for pid in _children(self.process.pid) if not _is_helper(pid)]
        return children or [self.process.pid]


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            found += [int(c) for c in task.read_text().split()]
    return found


def _is_helper(pid: int) -> bool:
    # multiprocessing may start a resource tracker next to uvicorn's workers.
    with contextlib.suppress(OSError):
        return b"resource_tracker" in Path(f"/proc/{pid}/cmdline").read_bytes()
    return True


def cpu_seconds(pids: list[int]) -> float:
    """User plus system CPU time used so far by ``pids`` (all their threads)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory (VmHWM), in MB; 0 if it is gone."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0
