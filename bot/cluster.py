"""The production layout on one host (`giaitrinh cluster`, docs/operations.md).

PostgreSQL and Redis from Debian's packages, K engine replicas (tracker store on PostgreSQL,
lock store on Redis), N gateways (web chat, webhooks, console, API, actions; they retry
queued messages), M dispatchers (outbox, deadline scans, retention, Zalo tokens) and nginx in
front (the one public port, which also carries the engines' action calls to any gateway):
all under one `Supervisor`, in that order. The same processes are written as a Procfile
(with its .env) for honcho or another process manager. Secrets are made once and kept in
`secrets.env` (mode 600) in the cluster's folder; anything else comes from the environment
(GIAITRINH_TELEGRAM_TOKEN, ...) and reaches every process.
"""

from __future__ import annotations

import base64
import os
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from bot.services.demo import load_demo
from bot.store.db import Database
from bot.store.migrate import private_file, upgrade
from bot.supervisor import Program

BIN = Path(sys.executable).parent  # giaitrinh's own environment (.venv/bin)
DISPATCHER_LOOPS = "outbox,deadlines,retention,zalo_tokens,telegram_polling"


@dataclass(frozen=True)
class Layout:
    """How many of each process, and where they listen (all on 127.0.0.1)."""

    root: Path  # the cluster's folder: databases, logs, secrets, Procfile
    model: Path
    gateways: int = 2
    engines: int = 2
    dispatchers: int = 1
    port: int = 8080  # nginx: the public entry
    first_gateway_port: int = 8081
    first_dispatcher_port: int = 8181  # /healthz only
    first_engine_port: int = 5005
    postgres_port: int = 5433
    redis_port: int = 6380

    def gateway_ports(self) -> list[int]:
        return [self.first_gateway_port + i for i in range(self.gateways)]

    def dispatcher_ports(self) -> list[int]:
        return [self.first_dispatcher_port + i for i in range(self.dispatchers)]

    def engine_ports(self) -> list[int]:
        return [self.first_engine_port + i for i in range(self.engines)]

    def database_url(self, name: str = "giaitrinh") -> str:
        return f"postgresql+asyncpg://giaitrinh@127.0.0.1:{self.postgres_port}/{name}"


def _postgres_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"))
    if not found:
        raise RuntimeError("PostgreSQL is not installed (scripts/system-deps.sh installs it)")
    return found[-1].parent


def _as_postgres() -> list[str]:
    """PostgreSQL refuses to run as root: as root, run it as Debian's postgres user."""
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def cluster_secrets(root: Path) -> dict[str, str]:
    """The cluster's own secrets, made on first start and kept in root/secrets.env (600)."""
    path = root / "secrets.env"
    if not path.exists():
        key = base64.b64encode(secrets.token_bytes(32)).decode()
        values = {
            "GIAITRINH_RASA_TOKEN": secrets.token_urlsafe(24),
            "GIAITRINH_ACTION_TOKEN": secrets.token_urlsafe(24),
            "GIAITRINH_CONSOLE_SESSION_KEY": key,
        }
        private_file(path)
        path.write_text("".join(f"{k}={v}\n" for k, v in values.items()), encoding="utf-8")
    pairs = (line.split("=", 1) for line in path.read_text(encoding="utf-8").splitlines())
    return {k: v for k, v in pairs}


def prepare_postgres(layout: Layout) -> Path:
    """A database cluster in root/postgres (made once), owned by the postgres user when root."""
    data = layout.root / "postgres"
    if not (data / "PG_VERSION").exists():
        data.mkdir(parents=True, exist_ok=True)
        if _as_postgres():
            shutil.chown(data, user="postgres")
        initdb = str(_postgres_bin() / "initdb")
        command = [*_as_postgres(), initdb, "-D", str(data), "-A", "trust", "-U", "giaitrinh"]
        out = subprocess.run(
            [*command, "-E", "UTF8", "--locale", "C.UTF-8"], capture_output=True, text=True
        )
        if out.returncode != 0:  # e.g. a folder the postgres user cannot reach
            raise RuntimeError(f"initdb failed: {out.stderr.strip()}")
    return data


async def prepare_databases(layout: Layout, demo: bool) -> None:
    """The two databases (made once), migrated to the newest revision; the demo agency and
    explanations when asked."""
    import asyncpg  # the gateway's driver

    conn = await asyncpg.connect(
        host="127.0.0.1", port=layout.postgres_port, user="giaitrinh", database="postgres"
    )
    try:
        for name in ("giaitrinh", "giaitrinh_tracker"):
            if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
                await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    await upgrade(layout.database_url())
    if demo:
        db = Database(layout.database_url())
        try:
            await load_demo(db)
        finally:
            await db.dispose()


def nginx_conf(layout: Layout) -> str:
    """nginx in front of the gateways: a gateway that refuses connections is skipped; a
    request that reached one is never sent to another (webhooks are not idempotent)."""
    servers = "".join(
        f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;\n" for p in layout.gateway_ports()
    )
    temp = layout.root / "nginx"
    return f"""# Written by giaitrinh cluster.
worker_processes 1;
pid {temp}/nginx.pid;
error_log stderr warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {temp}/body;
  proxy_temp_path {temp}/proxy;
  fastcgi_temp_path {temp}/fastcgi;
  uwsgi_temp_path {temp}/uwsgi;
  scgi_temp_path {temp}/scgi;
  client_max_body_size 2m;
  client_body_buffer_size 2m;  # the engines' action calls carry the dialogue: keep them in memory
  upstream gateways {{
{servers}    keepalive 64;
  }}
  server {{
    listen 127.0.0.1:{layout.port};
    location / {{
      proxy_pass http://gateways;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_read_timeout 120s;
      proxy_buffering off;
      proxy_next_upstream error;
    }}
  }}
}}
"""


def programs(layout: Layout, demo: bool = False) -> list[Program]:
    """Every process of the layout, in the order they start."""
    root = layout.root
    (root / "nginx").mkdir(parents=True, exist_ok=True)
    (root / "redis").mkdir(parents=True, exist_ok=True)
    (root / "log").mkdir(parents=True, exist_ok=True)
    conf = root / "nginx" / "nginx.conf"
    conf.write_text(nginx_conf(layout), encoding="utf-8")
    giaitrinh = str(BIN / "giaitrinh")
    engines = ",".join(f"http://127.0.0.1:{p}" for p in layout.engine_ports())
    common = {
        **cluster_secrets(root),
        "GIAITRINH_DATABASE_URL": layout.database_url(),
        "GIAITRINH_TRACKER_DB_URL": layout.database_url("giaitrinh_tracker"),
        "GIAITRINH_LOCK_STORE_URL": f"redis://127.0.0.1:{layout.redis_port}/1",
        "GIAITRINH_RASA_URL": engines,
        "GIAITRINH_ACTION_URL": f"http://127.0.0.1:{layout.port}/webhooks/actions",
        "GIAITRINH_TRUSTED_PROXIES": '["127.0.0.1/32"]',
        "GIAITRINH_OUTBOX_JOURNAL_DIR": str(root / "outbox"),
        "GIAITRINH_TELEGRAM_MODE": os.environ.get("GIAITRINH_TELEGRAM_MODE", "webhook"),
    }
    pg = [
        *_as_postgres(), str(_postgres_bin() / "postgres"), "-D", str(root / "postgres"),
        "-p", str(layout.postgres_port), "-k", str(root / "postgres"),
        "-c", "listen_addresses=127.0.0.1",
    ]  # fmt: skip
    redis = [
        shutil.which("redis-server") or "redis-server", "--bind", "127.0.0.1",
        "--port", str(layout.redis_port), "--save", "", "--appendonly", "no",
        "--dir", str(root / "redis"),
    ]  # fmt: skip
    result = [
        # SIGINT: PostgreSQL's fast shutdown (SIGTERM would wait for every client to leave).
        Program(
            "postgres",
            pg,
            port=layout.postgres_port,
            stop_signal=signal.SIGINT,
            after=partial(prepare_databases, layout, demo),
        ),
        Program("redis", redis, port=layout.redis_port),
    ]
    for i, port in enumerate(layout.engine_ports(), 1):
        log = str(root / "log" / f"engine{i}.log")
        argv = [
            giaitrinh,
            "engine",
            "--port",
            str(port),
            "--model",
            str(layout.model),
            "--log",
            log,
        ]
        result.append(Program(f"engine{i}", argv, common, port=port))
    for i, port in enumerate(layout.gateway_ports(), 1):
        env = {**common, "GIAITRINH_BACKGROUND": "engine_retry"}
        result.append(Program(f"gateway{i}", [giaitrinh, "serve", "--port", str(port)], env, port))
    for i, port in enumerate(layout.dispatcher_ports(), 1):
        # Telegram long polling (when no webhook) in the first dispatcher only.
        loops = DISPATCHER_LOOPS if i == 1 else DISPATCHER_LOOPS.replace(",telegram_polling", "")
        env = {**common, "GIAITRINH_BACKGROUND": loops}
        argv = [giaitrinh, "serve", "--port", str(port)]
        result.append(Program(f"dispatcher{i}", argv, env, port))
    nginx = [shutil.which("nginx") or "/usr/sbin/nginx", "-c", str(conf), "-g", "daemon off;"]
    result.append(Program("nginx", nginx, port=layout.port, stop_signal=signal.SIGQUIT))
    return result


def write_procfile(layout: Layout, processes: list[Program]) -> Path:
    """The same processes as a Procfile and its .env (mode 600), for honcho and the like."""
    procfile = layout.root / "Procfile"
    lines = [
        f"{p.name}: "
        + (
            f"GIAITRINH_BACKGROUND={p.env['GIAITRINH_BACKGROUND']} "
            if p.env.get("GIAITRINH_BACKGROUND")
            else ""
        )
        + shlex.join(p.argv)
        for p in processes
    ]
    procfile.write_text("\n".join(lines) + "\n", encoding="utf-8")
    env: dict[str, str] = {}
    for program in processes:
        env.update(program.env)
    env.pop("GIAITRINH_BACKGROUND", None)  # differs per process: set it in each one's line
    dotenv = layout.root / ".env"
    private_file(dotenv)
    dotenv.write_text("".join(f"{k}={shlex.quote(v)}\n" for k, v in env.items()), encoding="utf-8")
    return procfile
