"""Start, watch and stop the Rasa engine process (for `giaitrinh up`, tests and benchmarks)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from sqlalchemy.engine import make_url

from bot.engine import response_timeout
from bot.settings import PROJECT_ROOT
from bot.store.migrate import private_file

RASA_BIN = PROJECT_ROOT / ".venv-rasa" / "bin" / "rasa"


@dataclass(frozen=True, slots=True)
class EngineConfig:
    """Everything the engine process needs; tokens are passed by environment, never argv logs."""

    model: Path
    port: int
    token: str
    action_url: str
    action_token: str
    tracker_db: Path
    # The engine_timeout setting: Rasa's --response-timeout, which the gateway's
    # EngineClient outwaits (bot/engine.py), so a slow turn is never sent twice.
    response_timeout: float
    log_file: Path | None = None
    # Several replicas share a tracker store on PostgreSQL (a SQLAlchemy URL; the SQLite file
    # `tracker_db` otherwise) and a lock store on Redis (redis://[:password@]host:port/db;
    # in the process's memory otherwise: one replica only).
    tracker_url: str | None = None
    lock_store_url: str | None = None
    # Where the engine's endpoints file is written (secrets stay in the environment).
    endpoints_file: Path | None = None
    # 127.0.0.1 unless engines serve gateways of other hosts (a private network address).
    interface: str = "127.0.0.1"

    @property
    def tracker_db_url(self) -> str:
        """The tracker store as the gateway reaches it (settings.tracker_db_url)."""
        if self.tracker_url:
            url = make_url(self.tracker_url).set(drivername="postgresql+asyncpg")
            return url.render_as_string(hide_password=False)
        return f"sqlite+aiosqlite:///{self.tracker_db}"


def endpoints(cfg: EngineConfig) -> str:
    """The engine's endpoints file: actions at the gateway, the tracker store and the lock
    store. Tokens and passwords are ${VARIABLES} Rasa reads from its environment (start())."""
    lines = [
        "# Written by bot/enginectl.py for one engine process; secrets come from its environment.",
        "action_endpoint:",
        "  url: ${GIAITRINH_ACTION_URL}",
        "  # A header, not the `token` query parameter: Rasa logs the URL when a call fails.",
        "  headers:",
        "    X-Action-Token: ${GIAITRINH_ACTION_TOKEN}",
        "tracker_store:",
        "  type: SQL",
    ]
    if cfg.tracker_url:
        lines += ["  dialect: postgresql", "  url: ${GIAITRINH_TRACKER_URL}"]
    else:
        lines += ["  dialect: sqlite", "  db: ${GIAITRINH_TRACKER_DB}"]
    if cfg.lock_store_url:
        redis = make_url(cfg.lock_store_url)
        lines += [
            "lock_store:",
            "  type: redis",
            f"  url: {redis.host or '127.0.0.1'}",
            f"  port: {redis.port or 6379}",
            f"  db: {int(redis.database or 0)}",
            "  key_prefix: giaitrinh",
        ]
        if redis.password:
            lines.append("  password: ${GIAITRINH_LOCK_STORE_PASSWORD}")
    return "\n".join(lines) + "\n"


def secrets_env(cfg: EngineConfig) -> dict[str, str]:
    """The values endpoints() refers to, for the engine's environment only."""
    env = {
        "GIAITRINH_ACTION_URL": cfg.action_url,
        "GIAITRINH_ACTION_TOKEN": cfg.action_token,
        "GIAITRINH_TRACKER_DB": str(cfg.tracker_db),
    }
    if cfg.tracker_url:
        sync = make_url(cfg.tracker_url).set(drivername="postgresql")
        env["GIAITRINH_TRACKER_URL"] = sync.render_as_string(hide_password=False)
    if cfg.lock_store_url and make_url(cfg.lock_store_url).password:
        env["GIAITRINH_LOCK_STORE_PASSWORD"] = str(make_url(cfg.lock_store_url).password)
    return env


def tracker_file(url: str) -> Path | None:
    """The SQLite file of a tracker store URL (the engine is configured for SQLite)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(str(parsed.database)).resolve()


class EngineProcess:
    """One `rasa run` on 127.0.0.1 with the REST channel and a token-protected HTTP API."""

    def __init__(self, config: EngineConfig) -> None:
        self.config = config
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        """Base URL of the engine."""
        return f"http://127.0.0.1:{self.config.port}"

    @property
    def endpoints_file(self) -> Path:
        """Where this engine's endpoints file is written."""
        default = PROJECT_ROOT / "var" / f"endpoints-{self.config.port}.yml"
        return self.config.endpoints_file or default

    def command(self) -> list[str]:
        """The `rasa run` command line (the API token is in it; see start())."""
        cfg = self.config
        return [
            str(RASA_BIN), "run", "--model", str(cfg.model), "--enable-api",
            f"--auth-token={cfg.token}",  # "=": a random token may start with "-"
            "--interface", cfg.interface, "--port", str(cfg.port),
            "--endpoints", str(self.endpoints_file), "--credentials", "credentials.yml",
            "--response-timeout", str(response_timeout(cfg.response_timeout)),
        ]  # fmt: skip

    def _environment(self) -> dict[str, str]:
        """Write the endpoints file; the engine's environment (its secrets included)."""
        cfg = self.config
        if not cfg.tracker_url:
            private_file(cfg.tracker_db)  # Rasa would create it readable by every local user
        self.endpoints_file.parent.mkdir(parents=True, exist_ok=True)
        self.endpoints_file.write_text(endpoints(cfg), encoding="utf-8")
        return {
            **os.environ,
            "PYTHONPATH": str(PROJECT_ROOT),
            "RASA_TELEMETRY_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            # A replica that dies keeps its conversation's lock (Redis) until this passes: just
            # longer than a turn may take, so others take the conversation soon after.
            "TICKET_LOCK_LIFETIME": str(response_timeout(cfg.response_timeout) + 5),
            **secrets_env(cfg),
        }

    def start(self) -> None:
        """Spawn the engine in its own process group (so stop() reaches its children)."""
        cfg = self.config
        env = self._environment()
        if cfg.log_file is not None:
            cfg.log_file.parent.mkdir(parents=True, exist_ok=True)
            self._log = cfg.log_file.open("ab")
        # Rasa only takes its API token as an argument, so local users could read it
        # with `ps`; the engine binds 127.0.0.1 only and `giaitrinh up` picks a fresh random
        # token per run. The action token travels in the environment (endpoints()).
        command = self.command()
        self.process = subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env=env,
            stdout=self._log or subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def exec(self) -> None:
        """Become the engine (`giaitrinh engine`): this process is replaced by Rasa, so what
        supervises it (a process manager, `giaitrinh cluster`) signals Rasa itself."""
        env = self._environment()
        if self.config.log_file is not None:
            self.config.log_file.parent.mkdir(parents=True, exist_ok=True)
            log = os.open(self.config.log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            os.dup2(log, 1)
            os.dup2(log, 2)
        os.chdir(PROJECT_ROOT)
        command = self.command()
        os.execve(command[0], command, env)  # noqa: S606 (our own Rasa, no shell)

    def is_ready(self) -> bool:
        """True once the API answers /status with a loaded model."""
        request = urllib.request.Request(f"{self.url}/status?token={self.config.token}")
        try:
            with urllib.request.urlopen(request, timeout=2) as resp:
                return resp.status == 200 and b"model_file" in resp.read()
        except (urllib.error.URLError, OSError):
            return False

    def wait_ready(self, timeout: float = 240) -> None:
        """Block until the model is loaded; raise with the log's tail if the process died."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"engine exited with code {self.process.returncode}")
            if self.is_ready():
                return
            time.sleep(0.5)
        raise TimeoutError(f"engine not ready after {timeout:.0f}s")

    def stop(self, timeout: float = 20) -> None:
        """SIGTERM the process group, then SIGKILL whatever is left."""
        if self.process is None:
            return
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
            except ProcessLookupError:
                pass
        self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None
