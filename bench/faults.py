"""Fault runs on the production layout (`giaitrinh cluster`'s processes: PostgreSQL, Redis, two
engines, two gateways, a dispatcher, nginx, and a fake Telegram Bot API), all on 127.0.0.1,
each bounded and stopping by itself; prints what each fault cost.

- engine: citizens chat on the web (through nginx) while an engine replica is SIGKILLed
  (the supervisor starts it again): every message answered, once, in order?
- gateway: the same while a gateway is SIGKILLed in the middle of its turns: do its
  conversations resume (on the other gateway, or on itself restarted)?
- database: Telegram webhooks arrive steadily while PostgreSQL restarts: is every update
  stored (or answered 5xx, so that Telegram sends it again), none lost, none twice?
- flood: 5,000 Telegram webhook requests in 10 s: all stored? gateways' memory, p95.
- dispatcher: a broadcast with the dispatcher SIGKILLed twice (bench/broadcast_dispatch.py's
  crash run, here on PostgreSQL): nobody gets a message twice?

    python -m bench.faults --model models/nlu-....tar.gz
        [--only engine,gateway,database,flood,dispatcher]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bench.fake_telegram import TOKEN
from bench.servers import free_block, free_port
from bench.stack import UNLIMITED_WEB
from bot.cluster import Layout, prepare_postgres, programs
from bot.services.conversations import APOLOGY
from bot.supervisor import Program, Supervisor, accepts

SECRET = "bench-secret_1"  # noqa: S105 (the fake's own)
SCRIPT = ["xin chào", "hướng dẫn", "bạn là bot à", "cam on ban", "lịch tiếp công dân", "tạm biệt"]
ANSWER_WAIT = 120.0  # seconds a citizen waits for an answer before it counts as unanswered


def work_folder() -> Path:
    """A fresh folder the postgres user can reach (PostgreSQL runs as that user)."""
    folder = Path(tempfile.mkdtemp(prefix="giaitrinh-faults-"))
    folder.chmod(0o755)
    return folder


async def until(check: Any, pause: float = 0.05) -> None:
    """Until check() is true."""
    while True:
        if check():
            return
        await asyncio.sleep(pause)


@dataclass
class Running:
    """A started cluster."""

    supervisor: Supervisor
    layout: Layout
    url: str  # nginx
    telegram: str  # the fake Bot API

    def gateway_pids(self) -> list[int]:
        return [self.supervisor.pid(f"gateway{i}") for i in range(1, self.layout.gateways + 1)]


@asynccontextmanager
async def cluster(model: Path) -> AsyncIterator[Running]:
    """The layout of `giaitrinh cluster` (2 engines, 2 gateways, 1 dispatcher) plus a fake
    Telegram, its output in a log file; stopped and removed at the end."""
    folder = work_folder()
    base, telegram_port = free_block(), free_port()
    layout = Layout(
        root=folder, model=model, port=free_port(), first_gateway_port=base + 1,
        first_dispatcher_port=base + 101, first_engine_port=base + 201,
        postgres_port=base + 301, redis_port=base + 302,
    )  # fmt: skip
    telegram = f"http://127.0.0.1:{telegram_port}"
    fake = Program(
        "telegram",
        [sys.executable, "-m", "bench.fake_telegram", "--port", str(telegram_port)],
        port=telegram_port,
    )
    prepare_postgres(layout)
    processes = [fake, *programs(layout, demo=True)]
    extra = {
        "GIAITRINH_TELEGRAM_TOKEN": TOKEN,
        "GIAITRINH_TELEGRAM_API_BASE": telegram,
        "GIAITRINH_TELEGRAM_WEBHOOK_SECRET": SECRET,
        "GIAITRINH_TELEGRAM_MODE": "webhook",
        "GIAITRINH_PUBLIC_URL": "https://giaitrinh.example.vn",
        "GIAITRINH_RETRY_INTERVAL": "0.5",
        "GIAITRINH_DISPATCH_INTERVAL": "0.2",
        "GIAITRINH_LOG_LEVEL": "WARNING",
        # the bench's citizens all come from 127.0.0.1: lift the web chat's per-address limits
        **UNLIMITED_WEB,
    }
    for program in processes[1:]:
        if program.name.startswith(("gateway", "dispatcher", "engine")):
            program.env.update(extra)
    log = (folder / "cluster.log").open("w", encoding="utf-8")
    supervisor = Supervisor(processes, out=log)
    try:
        started = time.monotonic()
        await supervisor.start()
        print(f"  cluster up in {time.monotonic() - started:.0f} s (log: {folder}/cluster.log)")
        yield Running(supervisor, layout, f"http://127.0.0.1:{layout.port}", telegram)
    finally:
        await supervisor.stop()
        log.close()
        if not os.environ.get("GIAITRINH_BENCH_KEEP"):
            shutil.rmtree(folder, ignore_errors=True)


# -- citizens on the web chat -------------------------------------------------------------


@dataclass
class Citizen:
    """One web chat user sending a script, each message after the answer to the one before."""

    answered: list[float] = field(default_factory=list)  # seconds to each answer
    unanswered: int = 0
    retried_posts: int = 0  # posts that failed (gateway gone) and were sent again
    apologies: int = 0  # messages that waited for an engine


async def _post(http: aiohttp.ClientSession, url: str, body: dict[str, Any], who: Citizen) -> Any:
    """POST until a gateway answers 200 (a 502 from nginx or a dropped connection: the same
    message again, with the same client id, as a platform or the page would)."""
    while True:
        try:
            async with http.post(url, json=body, timeout=aiohttp.ClientTimeout(total=60)) as resp:
                if resp.status == 200:
                    return await resp.json()
        except (aiohttp.ClientError, TimeoutError):
            pass
        who.retried_posts += 1
        await asyncio.sleep(0.5)


async def chat(http: aiohttp.ClientSession, url: str, rounds: int, who: Citizen) -> None:
    session = (await _post(http, f"{url}/api/web/session", {}, who))["session_id"]
    for _ in range(rounds):
        for words in SCRIPT:
            began = time.monotonic()
            body = {"session_id": session, "client_message_id": uuid.uuid4().hex, "text": words}
            data = await _post(http, f"{url}/api/web/messages", body, who)
            replies = [r["text"] for r in data["replies"]]
            if APOLOGY in replies:
                who.apologies += 1
            after = data["message"]["id"]
            while not [t for t in replies if t != APOLOGY]:
                if time.monotonic() - began > ANSWER_WAIT:
                    who.unanswered += 1
                    break
                await asyncio.sleep(0.3)
                try:
                    async with http.get(
                        f"{url}/api/web/messages",
                        params={"session_id": session, "after": str(after)},
                    ) as resp:
                        found = (await resp.json())["messages"] if resp.status == 200 else []
                except (aiohttp.ClientError, TimeoutError):
                    found = []
                replies = [m["text"] for m in found if m["direction"] == "out"]
            else:
                who.answered.append(time.monotonic() - began)


async def conversations_check(run: Running) -> dict[str, Any]:
    """From the databases: every citizen message processed? answers in order? how many
    times did an engine take each message (the trackers' user events)?"""
    engine = create_async_engine(run.layout.database_url())
    tracker = create_async_engine(run.layout.database_url("giaitrinh_tracker"))
    try:
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    text(
                        "SELECT id, conversation_id, direction, status, in_reply_to_id, text "
                        "FROM messages WHERE channel = 'web' ORDER BY id"
                    )
                )
            ).all()
        async with tracker.connect() as conn:
            events = (
                (await conn.execute(text("SELECT data FROM events WHERE type_name = 'user'")))
                .scalars()
                .all()
            )
    finally:
        await engine.dispose()
        await tracker.dispose()
    inbound = [r for r in rows if r.direction == "in"]
    out_of_order = 0
    last: dict[int, int] = {}
    for r in rows:
        if r.direction == "out" and r.in_reply_to_id and r.text != APOLOGY:
            if r.in_reply_to_id < last.get(r.conversation_id, 0):
                out_of_order += 1
            last[r.conversation_id] = r.in_reply_to_id
    taken = Counter((json.loads(e).get("metadata") or {}).get("message_id") for e in events)
    times = Counter(taken.get(r.id, 0) for r in inbound)
    return {
        "messages": len(inbound),
        "not processed": sum(r.status != "processed" for r in inbound),
        "answers out of order": out_of_order,
        "engine turns per message": dict(sorted(times.items())),
    }


async def chat_with_fault(run: Running, victim: str, users: int, rounds: int) -> None:
    """`users` citizens chat; after a few seconds of it, `victim` is SIGKILLed once."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        citizens = [Citizen() for _ in range(users)]
        began = time.monotonic()
        chats = [asyncio.create_task(chat(http, run.url, rounds, c)) for c in citizens]
        await until(lambda: sum(len(c.answered) for c in citizens) >= users * 3)  # under way
        run.supervisor.kill(victim)
        killed = time.monotonic()
        await asyncio.gather(*chats)
        took = time.monotonic() - began
    times = [t for c in citizens for t in c.answered]
    after_kill = sorted(times)
    print(
        f"  {victim} SIGKILLed {killed - began:.1f} s into the run; "
        f"{len(times)} answers in {took:.0f} s, unanswered {sum(c.unanswered for c in citizens)}, "
        f"waited for an engine (apology) {sum(c.apologies for c in citizens)}, "
        f"posts sent again {sum(c.retried_posts for c in citizens)}"
    )
    print(
        f"  answer time p50 {statistics.median(times):.2f} s, p95 "
        f"{after_kill[int(0.95 * (len(after_kill) - 1))]:.2f} s, max {max(times):.1f} s; "
        f"{victim} restarted {run.supervisor.restarts[victim]}x"
    )
    print(f"  check: {await conversations_check(run)}")


# -- Telegram webhooks ----------------------------------------------------------------------


def update(update_id: int, chat_id: int, words: str) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id % 1_000_000,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "Lan"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "Lan", "language_code": "vi"},
            "text": words,
        },
    }


@dataclass
class Webhooks:
    """What a Telegram-like sender saw."""

    first_try: list[float] = field(default_factory=list)  # latency of requests answered 200
    refused: int = 0  # 5xx or no answer: sent again later, as Telegram does
    gave_up: int = 0
    acknowledged: set[int] = field(default_factory=set)


async def send_webhooks(url: str, updates: list[dict[str, Any]], seconds: float) -> Webhooks:
    """Each update at its moment of an even spread over `seconds`, sent again after 1 s until
    a gateway answers 200 (bounded: 120 s per update)."""
    seen = Webhooks()
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    began = time.monotonic()

    async def one(i: int, body: dict[str, Any], http: aiohttp.ClientSession) -> None:
        await asyncio.sleep(max(0.0, began + seconds * i / len(updates) - time.monotonic()))
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            start = time.monotonic()
            try:
                async with http.post(
                    f"{url}/webhooks/telegram", json=body, headers=headers,
                    timeout=aiohttp.ClientTimeout(total=30),
                ) as resp:  # fmt: skip
                    if resp.status == 200:
                        seen.first_try.append(time.monotonic() - start)
                        seen.acknowledged.add(body["update_id"])
                        return
            except (aiohttp.ClientError, TimeoutError):
                pass
            seen.refused += 1
            await asyncio.sleep(1.0)
        seen.gave_up += 1

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=400)) as http:
        await asyncio.gather(*(one(i, u, http) for i, u in enumerate(updates)))
    return seen


async def stored_updates(run: Running, ids: list[int]) -> tuple[set[int], int]:
    """Which of these updates are stored, and in how many rows (one each, or one is twice)."""
    engine = create_async_engine(run.layout.database_url())
    try:
        async with engine.connect() as conn:
            rows = (
                (
                    await conn.execute(
                        text("SELECT external_id FROM messages WHERE channel = 'telegram'")
                    )
                )
                .scalars()
                .all()
            )
    finally:
        await engine.dispose()
    wanted = {f"u{i}" for i in ids}  # Telegram's update_id, as the connector keeps it
    mine = [int(r[1:]) for r in rows if r in wanted]
    return set(mine), len(mine)


def rss_mb(pids: list[int]) -> float:
    """Resident memory of these processes (MB)."""
    total = 0
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        line = next(x for x in status.splitlines() if x.startswith("VmRSS:"))
        total += int(line.split()[1])
    return total / 1024


async def database_restart(run: Running, n: int, seconds: float) -> None:
    """Webhooks at n/seconds per second; PostgreSQL stopped (fast) a quarter in and started
    again by the supervisor."""
    ids = [900_000_000 + i for i in range(n)]
    updates = [update(u, 7_000_000 + i % 200, "xin chào") for i, u in enumerate(ids)]
    sending = asyncio.create_task(send_webhooks(run.url, updates, seconds))
    await asyncio.sleep(seconds / 4)
    down = time.monotonic()
    run.supervisor.kill("postgres", signal.SIGINT)  # fast shutdown; the supervisor restarts it
    await until(lambda: not accepts(run.layout.postgres_port))
    await until(lambda: accepts(run.layout.postgres_port))
    back = time.monotonic()
    seen = await sending
    stored, rows = await stored_updates(run, ids)
    lost = len(seen.acknowledged - stored)  # answered 200, yet not in the database
    lat = sorted(seen.first_try)
    print(
        f"  {n} updates in {seconds:.0f} s; PostgreSQL down {back - down:.1f} s; answered 5xx or "
        f"not at all (sent again) {seen.refused}; acknowledged {len(seen.acknowledged)}, "
        f"gave up {seen.gave_up}"
    )
    print(
        f"  stored {len(stored)} of {n} ({rows} rows), lost after a 200: {lost}; "
        f"webhook p95 {1000 * lat[int(0.95 * (len(lat) - 1))]:.0f} ms"
    )


async def flood(run: Running, n: int, seconds: float) -> None:
    """n webhook requests from n/5 chats in `seconds`: stored? memory? p95?"""
    ids = [800_000_000 + i for i in range(n)]
    updates = [
        update(u, 8_000_000 + i % (n // 5), "cho mình hỏi thủ tục") for i, u in enumerate(ids)
    ]
    pids = run.gateway_pids()
    before = rss_mb(pids)
    peak = before
    sending = asyncio.create_task(send_webhooks(run.url, updates, seconds))
    began = time.monotonic()
    while not sending.done():
        peak = max(peak, rss_mb(pids))
        await asyncio.sleep(0.2)
    took = time.monotonic() - began
    seen = sending.result()
    stored, rows = await stored_updates(run, ids)
    await asyncio.sleep(10)
    after = rss_mb(pids)
    lat = sorted(seen.first_try)
    print(
        f"  {n} requests sent over {took:.1f} s (asked: {seconds:.0f} s): acknowledged "
        f"{len(seen.acknowledged)}, refused and sent again {seen.refused}; stored {len(stored)} "
        f"({rows} rows)"
    )
    print(
        f"  webhook latency p50 {1000 * statistics.median(lat):.0f} ms, p95 "
        f"{1000 * lat[int(0.95 * (len(lat) - 1))]:.0f} ms, max {1000 * lat[-1]:.0f} ms; "
        f"gateways' memory {before:.0f} MB before, {peak:.0f} MB at most, {after:.0f} MB 10 s after"
    )


def dispatcher_crash() -> None:
    """bench/broadcast_dispatch.py's crash run, on a throw-away PostgreSQL."""
    from bench.broadcast_dispatch import crash_safety
    from bench.servers import postgres_server

    with postgres_server() as pg, tempfile.TemporaryDirectory(prefix="giaitrinh-crash-") as tmp:
        for channel in ("telegram", "zalo"):
            url = pg.create_database(f"crash_{channel}")
            crash_safety(channel, Path(tmp), url, 20_000, kills=2)


async def main_async(model: Path, only: set[str]) -> None:
    print(f"machine: {os.cpu_count()} cores; load {os.getloadavg()[0]:.1f}")
    if only & {"engine", "gateway", "database", "flood"}:
        for name in ("engine", "gateway", "database", "flood"):
            if name not in only:
                continue
            print(f"{name}:", flush=True)
            async with cluster(model) as run:
                if name == "engine":
                    await chat_with_fault(run, "engine1", users=16, rounds=2)
                elif name == "gateway":
                    await chat_with_fault(run, "gateway1", users=16, rounds=2)
                elif name == "database":
                    await database_restart(run, n=1500, seconds=30)
                else:
                    await flood(run, n=5000, seconds=10)
    if "dispatcher" in only:
        print("dispatcher:", flush=True)
        await asyncio.to_thread(dispatcher_crash)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--only", default="engine,gateway,database,flood,dispatcher")
    args = parser.parse_args()
    asyncio.run(main_async(Path(args.model).resolve(), set(args.only.split(","))))


if __name__ == "__main__":
    main()
