"""Throw-away PostgreSQL and Redis servers on 127.0.0.1, from Debian's packages (installed by
scripts/system-deps.sh), for the tests, the benchmarks and the fault runs.

Each context manager starts its server in a fresh directory, waits until it accepts
connections, and stops it (and removes the directory) when the block ends.
"""

from __future__ import annotations

import glob
import os
import random
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_block(offsets: tuple[int, ...] = (1, 2, 101, 201, 202, 301, 302)) -> int:
    """A base port such that base + each offset is free (`giaitrinh cluster --internal-ports`:
    gateways +1.., dispatchers +101.., engines +201.., PostgreSQL +301, Redis +302)."""
    rng = random.Random()  # noqa: S311 (not a secret)
    for _ in range(50):
        base = rng.randrange(20000, 60000, 1000)
        if not any(_listening(base + offset) for offset in offsets):
            return base
    raise RuntimeError("no free block of ports")


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _as_postgres() -> list[str]:
    """PostgreSQL refuses to run as root: as root, run it as the packaged postgres user."""
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def postgres_bindir() -> Path:
    """The newest installed PostgreSQL's binaries."""
    bindirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    if not bindirs:
        raise RuntimeError("PostgreSQL is not installed (scripts/system-deps.sh installs it)")
    return Path(bindirs[-1])


@dataclass
class Postgres:
    """A running throw-away cluster; `postgres` is its superuser (trust authentication)."""

    port: int
    data: Path
    bindir: Path
    fast: bool = True  # fsync off: throw-away data, faster tests

    def url(self, database: str = "postgres") -> str:
        """The SQLAlchemy async URL of one of its databases."""
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def run(self, *args: str) -> None:
        """A cluster command (pg_ctl, createdb...) as the cluster's owner."""
        out = subprocess.run([*_as_postgres(), *args], capture_output=True, text=True, check=False)
        if out.returncode != 0:
            raise RuntimeError(f"{Path(args[0]).name} failed: {out.stdout}{out.stderr}")

    def ctl(self, *args: str) -> None:
        """pg_ctl on this cluster (start, stop -m fast, restart...)."""
        self.run(str(self.bindir / "pg_ctl"), "-D", str(self.data), *args)

    def start(self) -> None:
        """Start it (again), waiting until it accepts connections."""
        options = f"-p {self.port} -k {self.data.parent} -c listen_addresses=127.0.0.1"
        if self.fast:
            options += " -c fsync=off -c synchronous_commit=off"
        log = str(self.data.parent / "log")
        self.ctl("-o", options, "-l", log, "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        """Stop it (mode: smart, fast or immediate)."""
        self.ctl("-m", mode, "-w", "stop")

    def create_database(self, name: str) -> str:
        """A new empty database; its URL."""
        self.run(
            str(self.bindir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U",
            "postgres", name,
        )  # fmt: skip
        return self.url(name)


@contextmanager
def postgres_server(fast: bool = True, port: int | None = None) -> Iterator[Postgres]:
    """A fresh cluster on 127.0.0.1 for the block (fsync off unless `fast` is False)."""
    bindir = postgres_bindir()
    base = Path(tempfile.mkdtemp(prefix="giaitrinh-pg-"))
    if _as_postgres():
        shutil.chown(base, user="postgres")
    server = Postgres(port or free_port(), base / "data", bindir, fast)
    try:
        server.run(
            str(bindir / "initdb"), "-D", str(server.data), "-A", "trust", "-U", "postgres",
            "--no-sync", "-E", "UTF8", "--locale", "C.UTF-8",
        )  # fmt: skip
        server.start()
        yield server
    finally:
        if (server.data / "postmaster.pid").exists():
            try:
                server.stop("immediate")
            except RuntimeError:
                pass
        shutil.rmtree(base, ignore_errors=True)


@dataclass
class Redis:
    """A running throw-away Redis (no persistence)."""

    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    """Until something accepts connections on 127.0.0.1:port."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listens on 127.0.0.1:{port}") from None
            time.sleep(0.05)


@contextmanager
def redis_server(port: int | None = None) -> Iterator[Redis]:
    """Debian's redis-server on 127.0.0.1 for the block, in memory only."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed (scripts/system-deps.sh installs it)")
    port = port or free_port()
    workdir = Path(tempfile.mkdtemp(prefix="giaitrinh-redis-"))
    process = subprocess.Popen(
        [
            binary,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
            "--protected-mode",
            "yes",
        ],  # fmt: skip
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        yield Redis(port, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(workdir, ignore_errors=True)
