"""The gateway's aiohttp app factory."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Coroutine
from datetime import UTC, datetime
from typing import Any

import aiohttp
import structlog
from aiohttp import web
from telegram.error import TelegramError

import actions.deps
from bot.channels import ChannelRegistry
from bot.domain.ratelimit import Limit, RateLimiter
from bot.engine import EngineClient
from bot.gateway import CHANNELS, DB, DISPATCHER, ENGINE, FLOW, HTTP, LOOPS, SETTINGS, json_response
from bot.logging import quiet_libraries
from bot.services import privacy, scheduler
from bot.services.conversations import MessageFlow
from bot.services.dispatch import Dispatcher
from bot.services.knowledge import KnowledgeBase
from bot.services.loops import LoopState, stop_tasks
from bot.services.outbox import outbox_status
from bot.services.quota_use import quota_status
from bot.settings import Settings
from bot.store.db import Database
from bot.web import (
    actions_endpoint,
    api_cases,
    api_explanations,
    api_handoffs,
    api_localities,
    api_reports,
    api_users,
    console,
    headers,
    metrics,
    open311,
    public_pages,
)
from bot.web.audit import audit_middleware
from bot.web.errors import error_middleware, refuse_nul_in_url
from connectors import telegram, zalo
from connectors import web as web_channel
from connectors.zalo import kinds as zalo_kinds
from connectors.zalo.webhook import PATH as ZALO_WEBHOOK

log = structlog.get_logger(__name__)


async def _resources(app: web.Application) -> AsyncIterator[None]:
    """Open the database, the HTTP client and the flow; close them on shutdown."""
    settings = app[SETTINGS]
    db = Database(settings.database_url, settings.database_busy_timeout_s)
    http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=200))
    recorder = app[metrics.METRICS]
    engine = EngineClient(
        http,
        settings.rasa_url,
        settings.rasa_token.get_secret_value(),
        settings.engine_timeout,
        recorder,
    )
    channels = ChannelRegistry()
    channels.register(web_channel.WebChannel())
    telegram_token = settings.telegram_token.get_secret_value()
    if telegram_token:
        bot = telegram.make_bot(telegram_token, settings.telegram_api_base)
        try:
            await bot.initialize()
        except TelegramError as exc:
            # PTB's InvalidToken message quotes the token itself.
            reason = exc.message.replace(telegram_token, "<token>")
            log.error("telegram_init_failed", error=type(exc).__name__, reason=reason)
        app[telegram.TELEGRAM_BOT] = bot
        channels.register(telegram.TelegramChannel(bot, http))
    if settings.zalo_app_id:
        if settings.zalo_secret_key.get_secret_value():
            log.warning(
                "setting_deprecated",
                setting="GIAITRINH_ZALO_SECRET_KEY",
                use="GIAITRINH_ZALO_OA_SECRET_KEY and GIAITRINH_ZALO_APP_SECRET_KEY",
            )
        tokens = zalo.ZaloTokens(db, http, settings)
        await tokens.ensure_row()
        app[zalo.ZALO_TOKENS] = tokens
        channels.register(zalo.ZaloChannel(http, tokens, settings))
    recorder.channels(channels.names())
    app[DB] = db
    app[HTTP] = http
    app[ENGINE] = engine
    app[CHANNELS] = channels
    app[FLOW] = MessageFlow(
        db,
        engine,
        channels,
        engine_max_chars=settings.engine_max_chars,
        engine_max_attempts=settings.engine_max_attempts,
        lease_s=settings.conversation_lease_s,
        metrics=recorder,
    )
    limits = {
        "telegram": Limit(settings.telegram_rate_per_s, settings.telegram_rate_per_chat_s),
        "zalo": Limit(settings.zalo_rate_per_s, settings.zalo_rate_per_chat_s),
    }
    app[DISPATCHER] = Dispatcher(
        db,
        channels,
        limiter=RateLimiter(limits),
        journal_dir=settings.outbox_journal_dir,
        metrics=recorder,
    )
    actions.deps.configure(
        db, KnowledgeBase(), answer_noop=settings.answer_noop, handoff=settings.handoff
    )
    privacy.configure(db, settings.tracker_db_url, settings.retention_days)
    yield
    await app[FLOW].drain()
    if telegram.TELEGRAM_BOT in app:
        with contextlib.suppress(TelegramError):
            await app[telegram.TELEGRAM_BOT].shutdown()
    await http.close()
    await privacy.close(db)
    await db.dispose()


async def _background(app: web.Application) -> AsyncIterator[None]:
    """Loops that run beside the requests: engine retries, the outbox, deadline notices...
    each only where the `background` setting says (several processes share the work)."""
    settings = app[SETTINGS]
    runs = settings.runs
    loops: list[LoopState] = []
    tasks: list[asyncio.Task[None]] = []

    def start(state: LoopState, job: Coroutine[Any, Any, None]) -> None:
        loops.append(state)
        tasks.append(asyncio.create_task(job))

    if runs("engine_retry"):
        start(app[FLOW].retry_loop, app[FLOW].run_retry_loop(settings.retry_interval))
    if runs("telegram_polling") and telegram.TELEGRAM_BOT in app and telegram_polling(settings):
        polling = LoopState("telegram_polling")
        start(polling, telegram.poll(app, state=polling))
    if runs("zalo_tokens") and zalo.ZALO_TOKENS in app:
        start(app[zalo.ZALO_TOKENS].loop, app[zalo.ZALO_TOKENS].run())
    if runs("deadlines"):
        deadlines = LoopState("deadlines")
        interval, due_soon = settings.deadline_scan_interval, settings.due_soon_hours
        start(deadlines, scheduler.run(app[DB], interval, due_soon, deadlines))
    if runs("retention"):
        retention = LoopState("retention")
        start(retention, privacy.run(app[DB], settings.retention_interval, retention))
    dispatcher = None
    if runs("outbox"):
        loops.append(app[DISPATCHER].loop)
        dispatcher = asyncio.create_task(app[DISPATCHER].run(settings.dispatch_interval))
    app[LOOPS] = {state.name: state for state in loops}
    yield
    if dispatcher is not None:
        # The outbox finishes the wave in flight (its journal would settle it anyway).
        app[DISPATCHER].stop()
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(dispatcher, 20)
    await stop_tasks(tasks)


async def healthz(request: web.Request) -> web.Response:
    """Liveness plus what an operator needs to see: database and engine reachability, the
    outbox, and whether each background loop runs (and its last failure); "degraded" when
    a loop is stopped, failing or stale."""
    db_ok = await request.app[DB].reachable()
    engine_ok = await request.app[ENGINE].is_ready()
    body: dict[str, object] = {
        "status": "ok" if db_ok else "degraded",
        "database": "ok" if db_ok else "unreachable",
        "engine": "ok" if engine_ok else "unavailable",
        "engines": [replica.as_json() for replica in request.app[ENGINE].replicas],
        "channels": request.app[CHANNELS].names(),
    }
    if db_ok:
        body["outbox"] = await outbox_status(request.app[DB])
    loops = {name: state.as_json() for name, state in request.app.get(LOOPS, {}).items()}
    body["loops"] = loops
    if any(loop["state"] != "ok" for loop in loops.values()):  # stopped, failing or stale
        body["status"] = "degraded"
    if zalo.ZALO_TOKENS in request.app:
        token = await request.app[zalo.ZALO_TOKENS].status()
        body["zalo_token"] = token.as_json()
        if token.last_error:
            body["status"] = "degraded"
        if db_ok:  # messages beyond the reply window this month
            limit = request.app[SETTINGS].zalo_quota_month
            body["zalo_quota"] = await quota_status(
                request.app[DB], zalo_kinds.QUOTA_POOL, limit, datetime.now(UTC)
            )
    return json_response(body, status=200 if db_ok else 503)


def telegram_polling(settings: Settings) -> bool:
    """Long polling when asked to, or when there is no public URL for a webhook."""
    if settings.telegram_mode == "auto":
        return not settings.public_url
    return settings.telegram_mode == "polling"


def create_app(settings: Settings) -> web.Application:
    """Build the gateway: channels, action endpoint, health, background retry."""
    quiet_libraries()  # no bot token or personal data from libraries' logs, however started
    # The audit and the count of refused inbound requests see each answer after the error
    # middleware has rendered it.
    inbound_routes = {
        web_channel.MESSAGES_PATH: web_channel.WebChannel.name,
        telegram.PATH: telegram.TelegramChannel.name,
        ZALO_WEBHOOK: zalo.ZaloChannel.name,
    }
    app = web.Application(
        middlewares=[
            metrics.count_refused(inbound_routes),
            audit_middleware,
            error_middleware,
            refuse_nul_in_url,
        ],
        client_max_size=1024 * 1024,
    )
    app[SETTINGS] = settings
    app.cleanup_ctx.append(_resources)
    app.cleanup_ctx.append(_background)
    headers.setup(app)
    app.router.add_get("/healthz", healthz)
    metrics.setup(app)
    actions_endpoint.setup(app)
    api_cases.setup(app)
    api_reports.setup(app)
    api_explanations.setup(app)
    api_handoffs.setup(app)
    api_users.setup(app)
    api_localities.setup(app)
    console.setup(app)
    public_pages.setup(app)
    open311.setup(app)
    web_channel.setup(app)
    telegram.setup(app)
    zalo.setup(app)
    return app
