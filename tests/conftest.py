"""Shared fixtures: a trained model, a real Rasa engine process, a real gateway on 127.0.0.1."""

from __future__ import annotations

import asyncio
import os
import secrets
import sqlite3
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import hypothesis
import pytest
from aiohttp import web
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench.servers import free_port, postgres_server
from bot.enginectl import EngineConfig, EngineProcess
from bot.gateway import FLOW
from bot.services.demo import load_demo
from bot.settings import PROJECT_ROOT, Settings
from bot.store.db import Database
from bot.store.migrate import upgrade
from bot.web.app import create_app
from connectors.zalo import ZALO_TOKENS
from tests import sqlite_locks, stuck
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.zalo_api import FakeZalo

# A "database is locked" in a test names the transactions that held the lock (stderr).
sqlite_locks.install()

ENGINE_TIMEOUT = 10.0  # one engine turn: the engine's response timeout and the gateway's
# Property-based tests (hypothesis) try the same examples on every run: reproducible in CI,
# never flaky; bounded so the suite stays fast; no example database written.
hypothesis.settings.register_profile(
    "giaitrinh",
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=100,
    print_blob=False,
    # One gateway serves all the examples of a test: its invariants are per request.
    suppress_health_check=[
        hypothesis.HealthCheck.function_scoped_fixture,
        hypothesis.HealthCheck.too_slow,
    ],
)
hypothesis.settings.load_profile("giaitrinh")


@dataclass(frozen=True)
class Tokens:
    """Secrets shared by the engine and the gateway within one test session."""

    rasa: str
    action: str
    open311: str  # the API key an Open311 client files petitions with


@pytest.fixture(scope="session")
def tokens() -> Tokens:
    """Fresh random tokens per session."""
    # The engine token starts with "-" on purpose: token_urlsafe does that one time in 64,
    # and the engine's command line once read it as an option (a flaky `make run`).
    return Tokens(
        rasa="-" + secrets.token_urlsafe(16),
        action=secrets.token_urlsafe(16),
        open311=secrets.token_urlsafe(16),
    )


@pytest.fixture(scope="session")
def model_path() -> Path:
    """The real model trained from nlu/ (reused when nlu/ and config.yml are unchanged)."""
    override = os.environ.get("GIAITRINH_TEST_MODEL")  # for trying a model by hand
    if override:
        return Path(override)
    out = subprocess.run(
        ["bash", "scripts/train.sh"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, f"training failed:\n{out.stderr[-3000:]}"
    return PROJECT_ROOT / out.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="session")
def gateway_port() -> int:
    """The port every test gateway binds, so the engine's action endpoint URL stays valid."""
    return free_port()


def engine_process(
    model: Path, tokens: Tokens, gateway_port: int, workdir: Path, port: int | None = None
) -> EngineProcess:
    """An engine process (not started) wired to the test gateway's action endpoint."""
    return EngineProcess(
        EngineConfig(
            model=model,
            port=port or free_port(),
            token=tokens.rasa,
            action_url=f"http://127.0.0.1:{gateway_port}/webhooks/actions",
            action_token=tokens.action,
            tracker_db=workdir / "tracker.db",
            endpoints_file=workdir / "endpoints.yml",
            response_timeout=ENGINE_TIMEOUT,
            log_file=workdir / "rasa.log",
        )
    )


@pytest.fixture(scope="session")
def engine(
    model_path: Path, tokens: Tokens, gateway_port: int, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[EngineProcess]:
    """One real Rasa server for the session."""
    proc = engine_process(model_path, tokens, gateway_port, tmp_path_factory.mktemp("engine"))
    proc.start()
    try:
        proc.wait_ready()
    except Exception:
        log = (proc.config.log_file or Path("/dev/null")).read_text(errors="replace")[-4000:]
        proc.stop()
        pytest.fail(f"engine did not start:\n{log}")
    yield proc
    proc.stop()


@pytest.fixture(scope="session")
def postgres_port() -> Iterator[int]:
    """A throw-away PostgreSQL server on 127.0.0.1 (Debian's binaries), for the session."""
    with postgres_server() as server:
        yield server.port


async def _new_postgres_database(port: int) -> str:
    name = f"t_{uuid.uuid4().hex[:16]}"
    conn = await asyncpg.connect(host="127.0.0.1", port=port, user="postgres", database="postgres")
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return f"postgresql+asyncpg://postgres@127.0.0.1:{port}/{name}"


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated database of this test's own: every such test runs on SQLite and PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'giaitrinh.db'}"
    else:
        url = await _new_postgres_database(request.getfixturevalue("postgres_port"))
    await upgrade(url)
    return url


DANGLING = {
    # The outbox names these rows without foreign keys (bot/store/models/outbox.py).
    reference: text(  # the names are the constants below
        f"SELECT COUNT(*) FROM deliveries d WHERE d.{column} IS NOT NULL "  # noqa: S608
        f"AND NOT EXISTS (SELECT 1 FROM {table} t WHERE t.id = d.{column})"
    )
    for reference, column, table in (
        ("contact", "contact_id", "contacts"),
        ("case", "case_id", "cases"),
        ("broadcast", "broadcast_id", "broadcasts"),
        ("message", "message_id", "messages"),
    )
}


async def dangling_deliveries(db: Database) -> dict[str, int]:
    """Deliveries naming a row that does not exist, counted by what they name ({}: none)."""
    async with db.session() as session:
        counts = {ref: int((await session.execute(q)).scalar_one()) for ref, q in DANGLING.items()}
    return {ref: n for ref, n in counts.items() if n}


@pytest.fixture
async def demo_database_url(database_url: str) -> str:
    """The test database with the demo agency and explanations loaded."""
    db = Database(database_url)
    await load_demo(db)
    await db.dispose()
    return database_url


def gateway_settings(database_url: str, tokens: Tokens, rasa_url: str, **extra: Any) -> Settings:
    """Settings for a test gateway; nothing comes from the developer's environment."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "rasa_url": rasa_url,
        "rasa_token": SecretStr(tokens.rasa),
        "action_token": SecretStr(tokens.action),
        "open311_api_keys": SecretStr(tokens.open311),
        "retry_interval": 0.5,
        "dispatch_interval": 0.2,
        "engine_timeout": ENGINE_TIMEOUT,
        # No tracker to erase from unless a test's engine gives its own (in memory: empty).
        "tracker_db_url": "sqlite+aiosqlite://",
    }
    values.update(extra)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


class WebChat:
    """A citizen on the web chat, driving the same JSON API as the page."""

    def __init__(self, http: aiohttp.ClientSession, base_url: str) -> None:
        self.http = http
        self.base_url = base_url
        self.session_id = ""

    async def open(self) -> WebChat:
        """Start a chat session like a first visit of the page."""
        async with self.http.post(f"{self.base_url}/api/web/session", json={}) as resp:
            assert resp.status == 200, await resp.text()
            self.session_id = (await resp.json())["session_id"]
        return self

    async def post(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """POST one message body; returns status and JSON."""
        async with self.http.post(f"{self.base_url}/api/web/messages", json=body) as resp:
            return resp.status, await resp.json()

    async def say(
        self, text: str, *, payload: str | None = None, client_id: str | None = None
    ) -> dict[str, Any]:
        """Send text (or a button payload) and return the server's answer, asserting 200."""
        body: dict[str, Any] = {
            "session_id": self.session_id,
            "client_message_id": client_id or uuid.uuid4().hex,
            "text": text,
        }
        if payload is not None:
            body["payload"] = payload
        status, data = await self.post(body)
        assert status == 200, data
        return data

    async def history(self, after: int = 0) -> list[dict[str, Any]]:
        """Every message of this chat after `after`."""
        async with self.http.get(
            f"{self.base_url}/api/web/messages",
            params={"session_id": self.session_id, "after": str(after)},
        ) as resp:
            assert resp.status == 200, await resp.text()
            return list((await resp.json())["messages"])


@dataclass
class RunningGateway:
    """A gateway serving real HTTP on 127.0.0.1 for one test."""

    app: web.Application
    base_url: str
    http: aiohttp.ClientSession

    async def chat(self) -> WebChat:
        """A new web chat session."""
        return await WebChat(self.http, self.base_url).open()

    @property
    def flow(self) -> Any:
        """The app's message flow (to inspect or drive retries)."""
        return self.app[FLOW]


@asynccontextmanager
async def running_gateway(settings: Settings, port: int) -> AsyncIterator[RunningGateway]:
    """Serve create_app(settings) on 127.0.0.1:port until the block ends."""
    app = create_app(settings)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port, reuse_address=True)
    await site.start()
    async with aiohttp.ClientSession() as http:
        try:
            yield RunningGateway(app=app, base_url=f"http://127.0.0.1:{port}", http=http)
        finally:
            # A shutdown that hangs fails this test with where it waits (tests/stuck.py).
            await stuck.bounded(runner.cleanup(), "the gateway's shutdown")


@pytest.fixture
async def gateway(
    demo_database_url: str, tokens: Tokens, engine: EngineProcess, gateway_port: int
) -> AsyncIterator[RunningGateway]:
    """The gateway with demo data, talking to the session's real engine."""
    settings = gateway_settings(
        demo_database_url, tokens, engine.url, tracker_db_url=engine.config.tracker_db_url
    )
    async with running_gateway(settings, gateway_port) as running:
        yield running


@pytest.fixture
async def offline_gateway(database_url: str, tokens: Tokens) -> AsyncIterator[RunningGateway]:
    """A gateway whose engine URL points at a closed port (no engine needed)."""
    settings = gateway_settings(
        database_url, tokens, f"http://127.0.0.1:{free_port()}", retry_interval=3600
    )
    async with running_gateway(settings, free_port()) as running:
        yield running


@asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[str]:
    """Serve an aiohttp app (a fake platform API) on 127.0.0.1; yields its base URL."""
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def lock_error(database_url: str) -> str:
    """The error a write meets under write_lock(), as logged: SQLite's "database is locked",
    PostgreSQL's lock_timeout (asyncpg's LockNotAvailableError, which SQLAlchemy wraps)."""
    return "OperationalError" if database_url.startswith("sqlite") else "DBAPIError"


@asynccontextmanager
async def write_lock(database_url: str) -> AsyncIterator[None]:
    """Another process's long write transaction: nobody else can store a message (readers
    still read) until the block ends. SQLite: its one write lock; PostgreSQL: the tables a
    message is stored in, locked against writes."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        conn = await asyncpg.connect(
            host=url.host, port=url.port, user=url.username, database=url.database
        )
        try:
            async with conn.transaction():
                await conn.execute("LOCK TABLE messages, contacts, conversations IN EXCLUSIVE MODE")
                yield
        finally:
            await conn.close()
        return
    path = url.database
    assert path, database_url
    holder = sqlite3.connect(path, isolation_level=None, timeout=60, check_same_thread=False)
    try:
        # A gateway in this event loop may be mid-write when the block starts: wait for its lock
        # in a thread, so that the loop runs on and the gateway can finish and let go of it.
        await asyncio.to_thread(holder.execute, "BEGIN EXCLUSIVE")
        yield
        holder.execute("ROLLBACK")
    finally:
        holder.close()


TELEGRAM_TOKEN = "123456:TEST-token"
TELEGRAM_SECRET = "test_secret-123"


@pytest.fixture
async def fake_telegram() -> AsyncIterator[FakeTelegram]:
    """The fake Bot API, running; its URL is in .base_url."""
    fake = FakeTelegram(token=TELEGRAM_TOKEN)
    async with serve(fake.app()) as url:
        fake.base_url = url  # type: ignore[attr-defined]
        yield fake


def telegram_settings(fake: FakeTelegram) -> dict[str, Any]:
    """Gateway settings that point the Telegram channel at the fake."""
    return {
        "telegram_token": SecretStr(TELEGRAM_TOKEN),
        "telegram_webhook_secret": SecretStr(TELEGRAM_SECRET),
        "telegram_api_base": fake.base_url,  # type: ignore[attr-defined]
        "telegram_mode": "webhook",
    }


@pytest.fixture
async def telegram_gateway(
    demo_database_url: str,
    tokens: Tokens,
    engine: EngineProcess,
    gateway_port: int,
    fake_telegram: FakeTelegram,
) -> AsyncIterator[RunningGateway]:
    """A gateway with the real engine and Telegram pointed at the fake."""
    settings = gateway_settings(
        demo_database_url,
        tokens,
        engine.url,
        tracker_db_url=engine.config.tracker_db_url,
        **telegram_settings(fake_telegram),
    )
    async with running_gateway(settings, gateway_port) as running:
        yield running


ZALO_APP_ID = "3100000000000000001"
# Two different secrets, as on Zalo: the OA secret key signs webhooks, the app secret key
# authenticates the OAuth refresh. One value for both would hide a mix-up.
ZALO_OA_SECRET = "zalo-oa-secret-of-the-test-oa"
ZALO_APP_SECRET = "zalo-app-secret-of-the-test-app"


@pytest.fixture
async def fake_zalo() -> AsyncIterator[FakeZalo]:
    """The fake Zalo OA + OAuth API, running, with a valid token pair issued."""
    fake = FakeZalo(app_id=ZALO_APP_ID, app_secret_key=ZALO_APP_SECRET)
    fake.issue()
    async with serve(fake.app()) as url:
        fake.base_url = url
        yield fake


def zalo_settings(fake: FakeZalo, **extra: Any) -> dict[str, Any]:
    """Gateway settings that point the Zalo channel at the fake."""
    return {
        "zalo_app_id": ZALO_APP_ID,
        "zalo_oa_secret_key": SecretStr(ZALO_OA_SECRET),
        "zalo_app_secret_key": SecretStr(ZALO_APP_SECRET),
        "zalo_api_base": fake.base_url,
        "zalo_oauth_base": fake.base_url,
        "zalo_access_token": SecretStr(next(iter(fake.access_tokens))),
        "zalo_refresh_token": SecretStr(fake.refresh_token),
        **extra,
    }


@pytest.fixture
async def zalo_gateway(
    demo_database_url: str,
    tokens: Tokens,
    engine: EngineProcess,
    gateway_port: int,
    fake_zalo: FakeZalo,
) -> AsyncIterator[RunningGateway]:
    """A gateway with the real engine and Zalo pointed at the fake."""
    settings = gateway_settings(
        demo_database_url,
        tokens,
        engine.url,
        tracker_db_url=engine.config.tracker_db_url,
        **zalo_settings(fake_zalo),
    )
    async with running_gateway(settings, gateway_port) as running:
        # The token loop's start-up round rotates the seeded pair (its expiry is unknown);
        # Zalo drops the old access token at once, so a reply sent meanwhile gets -216 and
        # waits for the outbox. A test starts once that round is over, as a running gateway is.
        rotation = running.app[ZALO_TOKENS].loop
        await asyncio.wait_for(rotation.wait_for(lambda s: s.rounds >= 1), 60)
        yield running
