"""The Zalo side of the broadcast dispatch benchmark (bench/broadcast_dispatch.py): the
channel's settings against the fake OA (bench/fake_zalo.py), its token row, the bare loop's
request, and the quota check after a run.

The contacts were last seen three days ago, outside the 48 h reply window, so each broadcast
goes as a promotion message (a case update as a transaction message), each drawing one unit
of the monthly quota the dispatcher takes in the database (`platform_quotas`).
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import aiohttp
from pydantic import SecretStr
from sqlalchemy import select

from bench.fake_zalo import TOKEN
from bot.channels import Category, OutboundMessage
from bot.domain.delivery import DeliveryStatus
from bot.domain.quota import period
from bot.settings import Settings
from bot.store import quotas, zalo_tokens
from bot.store.db import Database
from bot.store.models import Contact, Delivery, utcnow
from connectors.zalo.channel import PATHS, ZaloChannel
from connectors.zalo.kinds import PROMOTION, QUOTA_POOL, template
from connectors.zalo.tokens import ZaloTokens

LAST_SEEN = timedelta(hours=72)  # beyond the 48 h reply window: promotions, not replies
TOKEN_LIFE = timedelta(hours=25)  # as Zalo's; no refresh falls due during a run


def settings(api: str, quota: int, per_second: float = 0.0, per_chat: float = 0.0) -> Settings:
    """The channel's settings against the fake: promotions enabled, a quota of `quota` with
    no reserve; `per_second` and `per_chat` are the limiter's (0: the defaults)."""
    config = Settings(
        _env_file=None,  # type: ignore[call-arg]
        zalo_api_base=api,
        zalo_app_id="bench",
        zalo_message_kinds="transaction,promotion",
        zalo_quota_month=quota,
        zalo_quota_reserve=0,
        zalo_access_token=SecretStr(TOKEN),
        zalo_refresh_token=SecretStr("bench-refresh"),
    )
    limits = {"zalo_rate_per_s": per_second, "zalo_rate_per_chat_s": per_chat}
    return config.model_copy(update={k: v for k, v in limits.items() if v})


async def seed_token(db: Database) -> None:
    """The token row as the gateway seeds it (`ensure_row`), but valid for a day: the
    refresh loop is not started and the fake has no OAuth endpoint."""
    async with db.session() as session:
        await zalo_tokens.ensure_row(session, TOKEN, "bench-refresh")
        await session.flush()
        row = await zalo_tokens.read(session)
        assert row is not None
        row.expires_at = utcnow() + TOKEN_LIFE


@asynccontextmanager
async def channel(db: Database, api: str, quota: int) -> AsyncIterator[ZaloChannel]:
    """The Zalo channel as the gateway builds it (its own HTTP session, tokens in `db`)."""
    async with aiohttp.ClientSession() as http:
        config = settings(api, quota)
        yield ZaloChannel(http, ZaloTokens(db, http, config), config)


def bare_request(api: str, text: str, first_user: int) -> tuple[str, Callable[[int], bytes]]:
    """The promotion request the channel sends for a broadcast of `text` without a card, as
    (URL, body of the i-th user): the same template, serialised as aiohttp's `json=` does."""
    message = template(
        PROMOTION, OutboundMessage(text, category=Category.PROMOTION), settings(api, 1)
    )

    def body(i: int) -> bytes:
        payload: dict[str, Any] = {
            "recipient": {"user_id": str(first_user + i)},
            "message": message,
        }
        return json.dumps(payload).encode()

    return f"{api}{PATHS[PROMOTION]}", body


HEADERS = {"access_token": TOKEN, "Content-Type": "application/json"}


def fake_users(api: str) -> set[str]:
    """Users the fake accepted at least one message for."""
    with urllib.request.urlopen(f"{api}/_users", timeout=30) as response:
        return set(json.loads(response.read()))


async def quota_report(url: str, counted: dict[str, Any], arrived: set[str]) -> str:
    """Units used vs proactive messages the fake accepted, and the rows in doubt: a send in
    doubt keeps its unit, so used should be accepted + in doubt that never arrived."""
    db = Database(url)
    try:
        async with db.session() as session:
            used = await quotas.used(session, QUOTA_POOL, period(utcnow()).key)
            unknown = list(
                await session.scalars(
                    select(Contact.channel_user_id)
                    .join(Delivery, Delivery.contact_id == Contact.id)
                    .where(Delivery.status == DeliveryStatus.UNKNOWN)
                )
            )
    finally:
        await db.dispose()
    accepted = sum(n for kind, n in counted["kinds"].items() if kind != "cs")
    lost = sum(1 for user in unknown if user not in arrived)
    return (
        f"quota: {used:,} units used; the fake accepted {accepted:,} proactive messages "
        f"({counted['kinds']}); {len(unknown):,} sends in doubt ('unknown'), {lost:,} of them "
        f"never arrived; used - accepted - in doubt never arrived = "
        f"{used - accepted - lost:+,} (goal 0)"
    )
