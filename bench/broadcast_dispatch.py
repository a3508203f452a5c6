"""Broadcast dispatch against a fake platform in its own process on 127.0.0.1: the Telegram
Bot API (bench/fake_telegram.py) and the Zalo OA API (bench/fake_zalo.py).

    python -m bench.broadcast_dispatch [--channel telegram|zalo|both] [--deliveries 20000]
                                       [--only capacity|limits|crash]

Three measurements per channel, each printed next to its floor from the same run:
- capacity: claim, send and record N broadcast deliveries with no platform limit, against a
  bare aiohttp send loop to the same fake (goal: >= 0.5x);
- limit use: the fake enforces 200 messages/s overall and 1/s per chat (Telegram's 429,
  Zalo's error -32 above it); the dispatcher should use >= 95% of it and cause no refusal;
- crash safety: N deliveries, the dispatcher process killed with SIGKILL twice and started
  again; nobody may get a message twice (the fake counts per chat).
On Zalo the contacts are outside the reply window, so broadcasts go as promotion messages on
the monthly quota; after each run the quota's units used are compared with what was sent
(bench/dispatch_zalo.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import func, select, text

from bench import dispatch_zalo
from bench.fake_telegram import TOKEN
from bench.seed import seed_outbox
from bench.stack import free_port, wait_http
from bot.channels import Channel, ChannelRegistry
from bot.domain.delivery import DeliveryStatus
from bot.domain.ratelimit import Limit, RateLimiter
from bot.services.dispatch import Dispatcher
from bot.store.db import Database
from bot.store.migrate import upgrade
from bot.store.models import Delivery, utcnow
from connectors.telegram import TelegramChannel, make_bot

TEXT = (
    "Thủ tục cấp đổi giấy phép lái xe chuyển về UBND cấp xã từ 01/7/2025\n\n"
    "Anh/chị nhận tin này vì đã đăng ký nhận tin về “Thủ tục hành chính”. "
    "Nhắn “hủy nhận tin” để dừng."
)
FIRST_CHAT = 10_000_000
BARE_CONCURRENCY = 100  # the bare loop's best setting on this machine (150 and 200 are slower)
CHANNELS = ("telegram", "zalo")


@contextmanager
def fake_api(channel: str, per_second: float = 0, per_chat_interval: float = 0) -> Iterator[str]:
    """A fake platform process (bench/fake_<channel>.py); yields its base URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", f"bench.fake_{channel}", "--port", str(port)]
        + ["--per-second", str(per_second), "--per-chat-interval", str(per_chat_interval)],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{base}/_stats", timeout=30)
        yield base
    finally:
        process.terminate()
        process.wait(10)


def fake_stats(base: str) -> dict[str, Any]:
    """What the fake counted."""
    with urllib.request.urlopen(f"{base}/_stats", timeout=10) as response:
        return dict(json.loads(response.read()))


async def seed(url: str, channel: str, chats: int, doubles: int = 0) -> None:
    """A fresh schema and the outbox of a broadcast to `chats` contacts on `channel` (the
    first `doubles` with a case update too: same chat, 1 s spacing) — bench/seed.py; Zalo
    contacts last seen outside the reply window, and the OA's token row."""
    await upgrade(url)
    db = Database(url)
    try:
        if channel == "zalo":
            seen = utcnow() - dispatch_zalo.LAST_SEEN
            await seed_outbox(db, chats, TEXT, FIRST_CHAT, doubles, channel, seen)
            await dispatch_zalo.seed_token(db)
        else:
            await seed_outbox(db, chats, TEXT, FIRST_CHAT, doubles)
    finally:
        await db.dispose()


async def outstanding(db: Database) -> int:
    """Rows not finished yet (pending or being sent)."""
    async with db.session() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(Delivery.status.in_([DeliveryStatus.PENDING, DeliveryStatus.SENDING]))
        )
        return int(count or 0)


async def statuses(url: str) -> dict[str, int]:
    """Deliveries by status."""
    db = Database(url)
    try:
        async with db.session() as session:
            rows = await session.execute(text("SELECT status, count(*) FROM deliveries GROUP BY 1"))
            return {str(status): int(n) for status, n in rows}
    finally:
        await db.dispose()


@asynccontextmanager
async def open_channel(name: str, db: Database, api: str, quota: int) -> AsyncIterator[Channel]:
    """The channel as the gateway builds it, pointed at the fake (Zalo: `quota` a month)."""
    if name == "zalo":
        async with dispatch_zalo.channel(db, api, quota) as zalo:
            yield zalo
        return
    async with make_bot(TOKEN, api) as bot, aiohttp.ClientSession() as http:
        yield TelegramChannel(bot, http)


async def dispatch_until_done(
    url: str,
    api: str,
    limiter: RateLimiter | None,
    batch: int,
    concurrency: int,
    journal_dir: Path,
    channel: str = "telegram",
    quota: int = 0,
) -> float:
    """Run a dispatcher until every delivery is finished; returns the seconds it took."""
    db = Database(url)
    try:
        async with open_channel(channel, db, api, quota) as sender:
            channels = ChannelRegistry()
            channels.register(sender)
            dispatcher = Dispatcher(
                db,
                channels,
                batch=batch,
                concurrency=concurrency,
                limiter=limiter,
                journal_dir=journal_dir,
            )
            started = time.perf_counter()
            await dispatcher.recover(utcnow())
            while True:
                await dispatcher.drain()
                if not await outstanding(db):
                    dispatcher.close()
                    return time.perf_counter() - started
                await asyncio.sleep(0.01)  # deferred rows (per-chat spacing) come due soon
    finally:
        await db.dispose()


def bare_request(channel: str, api: str) -> tuple[str, Callable[[int], bytes], dict[str, str]]:
    """What the channel sends for the i-th chat's broadcast: URL, body, headers (Telegram:
    sendMessage; Zalo: the promotion message)."""
    if channel == "zalo":
        url, body = dispatch_zalo.bare_request(api, TEXT, FIRST_CHAT)
        return url, body, dispatch_zalo.HEADERS

    def message(i: int) -> bytes:
        return json.dumps({"chat_id": FIRST_CHAT + i, "text": TEXT}, ensure_ascii=False).encode()

    return f"{api}/bot{TOKEN}/sendMessage", message, {"Content-Type": "application/json"}


async def bare_loop(channel: str, api: str, n: int, concurrency: int) -> float:
    """The floor: the same requests (same JSON body) from a plain aiohttp loop that neither
    reads a database nor looks at the answer beyond its status; requests/s."""
    url, body, headers = bare_request(channel, api)
    numbers = iter(range(n))
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def worker() -> None:
            for i in numbers:
                async with http.post(url, data=body(i), headers=headers) as response:
                    await response.read()
                    assert response.status == 200

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return n / (time.perf_counter() - started)


# -- the three measurements ---------------------------------------------------------------


def quota_check(channel: str, url: str, api: str, counted: dict[str, Any]) -> None:
    """Zalo: units of the monthly quota used vs promotions sent and sends in doubt."""
    if channel == "zalo":
        report = dispatch_zalo.quota_report(url, counted, dispatch_zalo.fake_users(api))
        print(f"  {asyncio.run(report)}")


def capacity(channel: str, work: Path, n: int, batch: int, concurrency: int, rounds: int) -> None:
    """Bare loop and dispatcher alternately, `rounds` times (this VM's speed drifts)."""
    ratios = []
    for number in range(1, rounds + 1):
        with fake_api(channel) as api:
            floor = asyncio.run(bare_loop(channel, api, n, BARE_CONCURRENCY))
        url = f"sqlite+aiosqlite:///{work / f'{channel}-capacity{number}.db'}"
        asyncio.run(seed(url, channel, n))
        with fake_api(channel) as api:
            elapsed = asyncio.run(
                dispatch_until_done(
                    url, api, None, batch, concurrency, work / "journal", channel, 2 * n
                )
            )
            counted = fake_stats(api)
            by_status = asyncio.run(statuses(url))
            assert counted["sent"] == n and by_status == {"sent": n}, (counted, by_status)
            rate = n / elapsed
            ratios.append(rate / floor)
            print(
                f"  round {number}: dispatcher {rate:,.0f} deliveries/s, "
                f"bare loop {floor:,.0f} requests/s, ratio {rate / floor:.2f}"
            )
            quota_check(channel, url, api, counted)
    print(
        f"{channel} dispatch capacity, {n:,} deliveries (claimed, sent, recorded; each chat "
        f"got exactly one): median ratio to the bare aiohttp send loop "
        f"{statistics.median(ratios):.2f} (goal >= 0.5)"
    )


def limiter_for(channel: str, per_second: float, per_chat: float) -> RateLimiter:
    """The dispatcher's limiter as the gateway builds it (bot/web/app.py); Zalo's from its
    settings (`zalo_rate_per_s`, `zalo_rate_per_chat_s`)."""
    if channel == "zalo":
        config = dispatch_zalo.settings("", 1, per_second, per_chat)
        return RateLimiter({"zalo": Limit(config.zalo_rate_per_s, config.zalo_rate_per_chat_s)})
    return RateLimiter({"telegram": Limit(per_second, per_chat)})


def limit_use(channel: str, work: Path, url: str | None, chats: int, doubles: int) -> None:
    per_second, per_chat = 200.0, 1.0
    url = url or f"sqlite+aiosqlite:///{work / f'{channel}-limits.db'}"
    asyncio.run(seed(url, channel, chats, doubles))
    limiter = limiter_for(channel, per_second, per_chat)
    quota = 2 * (chats + doubles)
    with fake_api(channel, per_second, 1 / per_chat) as api:
        asyncio.run(
            dispatch_until_done(url, api, limiter, 500, 100, work / "journal", channel, quota)
        )
        counted = fake_stats(api)
        span = counted["last"] - counted["first"]
        rate = (counted["sent"] - 1) / span if span > 0 else 0.0
        refusal = f"-32 {counted['limited_by']}" if channel == "zalo" else "429"
        print(
            f"{channel} limit use, fake allows {per_second:.0f}/s overall and {per_chat:.0f}/s "
            f"per chat: {rate:.1f} messages/s = {rate / per_second:.1%} of the limit "
            f"(goal >= 95%); {refusal} caused: {counted['too_many']} (goal 0)"
        )
        print(
            f"  {counted['sent']:,} messages to {counted['chats']:,} chats "
            f"({doubles:,} chats got two, spaced by the per-chat limit)"
        )
        quota_check(channel, url, api, counted)


def crash_safety(channel: str, work: Path, url: str | None, n: int, kills: int) -> None:
    url = url or f"sqlite+aiosqlite:///{work / f'{channel}-crash.db'}"
    asyncio.run(seed(url, channel, n))
    runs = 0
    with fake_api(channel) as api:
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
        command = [sys.executable, "-m", "bench.dispatch_worker", url, api, str(work / "journal")]
        command += [channel, str(2 * n)]
        for kill in range(kills + 1):
            runs += 1
            worker = subprocess.Popen(command, env=env)
            if kill == kills:
                worker.wait(600)
                break
            target = n * (kill + 1) // (kills + 1)
            while fake_stats(api)["sent"] < target and worker.poll() is None:
                time.sleep(0.005)
            worker.send_signal(signal.SIGKILL)
            worker.wait(30)
            print(f"  SIGKILL after {fake_stats(api)['sent']:,} messages")
        counted = fake_stats(api)
        by_status = asyncio.run(statuses(url))
        by_count = {int(k): v for k, v in counted["chats_by_count"].items()}
        twice = sum(v for k, v in by_count.items() if k > 1)
        once = by_count.get(1, 0)
        print(
            f"{channel} crash safety, {n:,} deliveries, {kills} x SIGKILL, {runs} runs: "
            f"exactly one message {once:,}, none {n - once - twice:,}, twice or more {twice} "
            f"(goal: none twice)"
        )
        print(
            f"  deliveries by status {by_status} "
            "('unknown': in flight at a kill, neither confirmed nor resent)"
        )
        quota_check(channel, url, api, counted)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--channel", choices=[*CHANNELS, "both"], default="both")
    parser.add_argument("--deliveries", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", choices=["capacity", "limits", "crash"], default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="giaitrinh-bench-") as tmp:
        work = Path(tmp)
        print(f"machine: {os.cpu_count()} cores, {sys.platform}; database: SQLite")
        for channel in CHANNELS if args.channel == "both" else (args.channel,):
            if args.only in (None, "capacity"):
                capacity(channel, work, args.deliveries, args.batch, args.concurrency, args.rounds)
            if args.only in (None, "limits"):
                limit_use(channel, work, None, 2_000, 300)
            if args.only in (None, "crash"):
                crash_safety(channel, work, None, args.deliveries, kills=2)


if __name__ == "__main__":
    main()
