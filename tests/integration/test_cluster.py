"""The production layout starts with one command (`giaitrinh cluster`): PostgreSQL, Redis, two
engines, two gateways, a dispatcher and nginx; a citizen's conversation goes through it, its
messages reaching both gateways and both engines; one signal stops it all."""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
import sys
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bench.servers import free_block
from bot.supervisor import accepts
from tests.chat import file_explanation_request
from tests.conftest import PROJECT_ROOT, WebChat, free_port
from tests.scale import RoamingChat, redis_commands

READY = "giaitrinh cluster ready"
GUARD = 600.0  # seconds: a cluster that never gets ready fails instead of hanging


def cluster_folder() -> Path:
    """Not pytest's tmp_path: PostgreSQL runs as the postgres user, who must reach it."""
    folder = Path(tempfile.mkdtemp(prefix="giaitrinh-cluster-"))
    folder.chmod(0o755)
    return folder


@dataclass
class Cluster:
    process: asyncio.subprocess.Process
    url: str
    base: int
    lines: list[str]

    def gateway(self, n: int) -> str:
        return f"http://127.0.0.1:{self.base + n}"


@pytest.fixture
async def cluster(model_path: Path) -> AsyncIterator[Cluster]:
    port, base = free_port(), free_block()
    folder = cluster_folder()
    giaitrinh = str(Path(sys.executable).parent / "giaitrinh")
    process = await asyncio.create_subprocess_exec(
        giaitrinh, "cluster", "--model", str(model_path), "--dir", str(folder),
        "--port", str(port), "--internal-ports", str(base), "--demo",
        cwd=PROJECT_ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    lines: list[str] = []
    ready = asyncio.Event()

    async def read() -> None:
        assert process.stdout is not None
        async for raw in process.stdout:
            lines.append(raw.decode("utf-8", "replace").rstrip())
            if lines[-1].startswith(READY):
                ready.set()

    reader = asyncio.create_task(read())
    try:
        waiting = asyncio.create_task(ready.wait())
        exited = asyncio.create_task(process.wait())
        await asyncio.wait({waiting, exited}, timeout=GUARD, return_when=asyncio.FIRST_COMPLETED)
        assert ready.is_set(), "\n".join(lines[-60:])
        exited.cancel()
        yield Cluster(process, f"http://127.0.0.1:{port}", base, lines)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 120)
            except TimeoutError:
                process.kill()
                await process.wait()
        await reader
        shutil.rmtree(folder, ignore_errors=True)


async def health(http: aiohttp.ClientSession, url: str) -> dict[str, Any]:
    async with http.get(f"{url}/healthz") as resp:
        return dict(await resp.json())


async def test_the_production_layout_starts_serves_and_stops_with_one_command(
    cluster: Cluster,
) -> None:
    base = cluster.base
    before = redis_commands(base + 302)
    async with aiohttp.ClientSession() as http:
        front = await health(http, cluster.url)
        assert front["status"] == "ok", front
        assert [e["ready"] for e in front["engines"]] == [True, True], front["engines"]
        assert set(front["loops"]) == {"engine_retry"}, "a gateway retries; it does not dispatch"
        dispatcher = await health(http, cluster.gateway(101))
        assert {"outbox", "deadlines", "retention"} <= set(dispatcher["loops"]), dispatcher

        # Through nginx, as a citizen's phone reaches it.
        chat = await WebChat(http, cluster.url).open()
        code = await file_explanation_request(chat)
        assert code

        # Straight to each gateway in turn: the form's state is the engines' shared tracker.
        roaming = RoamingChat(http, [cluster.gateway(1), cluster.gateway(2)])
        await roaming.open()
        assert await file_explanation_request(roaming)
        for n in (1, 2):
            engines = (await health(http, cluster.gateway(n)))["engines"]
            assert all(e["turns"] > 0 for e in engines), f"gateway {n} used both: {engines}"
    assert redis_commands(base + 302) > before, "the engines took their locks in Redis"

    cluster.process.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(cluster.process.wait(), 120) == 0
    stopped = [line for line in cluster.lines if line.endswith("| stopped")]
    names = [line.split("|")[0].strip() for line in stopped]
    assert names == [
        "nginx", "dispatcher1", "gateway2", "gateway1", "engine2", "engine1", "redis", "postgres",
    ], json.dumps(cluster.lines[-40:], ensure_ascii=False)  # fmt: skip
    assert not any(accepts(p) for p in (base + 1, base + 2, base + 201, base + 301))
