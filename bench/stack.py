"""The engine and a prepared database, as real processes, shared by the benchmarks."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bot.enginectl import EngineConfig, EngineProcess

ENGINE_TIMEOUT = 15.0  # one engine turn, for the engine and the gateway alike


def free_port() -> int:
    """An unused loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, timeout: float = 60) -> None:
    """Block until a URL answers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(url)


@dataclass
class Stack:
    """A running engine, a migrated demo database, and how to start gateways on them."""

    engine: EngineProcess
    env: dict[str, str]
    gateway_port: int
    work: Path
    giaitrinh: str

    @contextmanager
    def gateway(self, **extra_env: str) -> Iterator[str]:
        """A `giaitrinh serve` process on the stack's gateway port; yields its base URL."""
        with (self.work / "gateway.log").open("ab") as log:
            process = subprocess.Popen(
                [self.giaitrinh, "serve", "--port", str(self.gateway_port)],
                env={**self.env, **extra_env},
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
            try:
                base = f"http://127.0.0.1:{self.gateway_port}"
                wait_http(f"{base}/healthz")
                yield base
            finally:
                process.terminate()
                process.wait(timeout=20)


# The web chat's limits lifted: benchmarks post from one address as fast as they can.
UNLIMITED_WEB = {
    f"GIAITRINH_WEB_{limit}": "1000000"
    for limit in (
        "SESSIONS_PER_IP_PER_MIN",
        "SESSIONS_PER_IP_BURST",
        "MESSAGES_PER_SESSION_PER_MIN",
        "MESSAGES_PER_SESSION_BURST",
        "MESSAGES_PER_IP_PER_MIN",
        "MESSAGES_PER_IP_BURST",
        "POLLS_PER_SESSION_PER_MIN",
        "POLLS_PER_SESSION_BURST",
    )
}


@contextmanager
def stack(model: Path, prefix: str) -> Iterator[Stack]:
    """Migrate and load a demo database, start the engine, stop it at the end."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    rasa_token, action_token = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    gateway_port = free_port()
    engine = EngineProcess(
        EngineConfig(
            model=model.resolve(),
            port=free_port(),
            token=rasa_token,
            action_url=f"http://127.0.0.1:{gateway_port}/webhooks/actions",
            action_token=action_token,
            tracker_db=work / "tracker.db",
            endpoints_file=work / "endpoints.yml",
            response_timeout=ENGINE_TIMEOUT,
            log_file=work / "rasa.log",
        )
    )
    env = {
        **os.environ,
        "GIAITRINH_ENGINE_TIMEOUT": str(ENGINE_TIMEOUT),
        "GIAITRINH_DATABASE_URL": f"sqlite+aiosqlite:///{work / 'bench.db'}",
        "GIAITRINH_RASA_URL": engine.url,
        "GIAITRINH_RASA_TOKEN": rasa_token,
        "GIAITRINH_TRACKER_DB_URL": engine.config.tracker_db_url,
        "GIAITRINH_ACTION_TOKEN": action_token,
        "GIAITRINH_LOG_LEVEL": "WARNING",
        # Benchmarks post from one address as fast as they can: lift the web chat's limits.
        **UNLIMITED_WEB,
    }
    giaitrinh = str(Path(sys.executable).parent / "giaitrinh")
    subprocess.run([giaitrinh, "db", "upgrade"], env=env, check=True, capture_output=True)
    subprocess.run([giaitrinh, "demo", "load"], env=env, check=True, capture_output=True)
    engine.start()
    try:
        engine.wait_ready()
        yield Stack(engine, env, gateway_port, work, giaitrinh)
    finally:
        engine.stop()
