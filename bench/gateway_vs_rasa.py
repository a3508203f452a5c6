"""Conversation throughput and latency through the gateway's web channel vs. raw Rasa REST.

Both paths use the same engine process and model, the same conversations and the same
concurrency; custom actions run in the gateway in both. Prints messages/s, p50/p95 and the
ratio gateway/raw. Usage: python -m bench.gateway_vs_rasa --model models/nlu-....tar.gz
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

from bench.stack import stack

# One citizen's conversation: greetings, the menu (a custom action), small talk.
SCRIPT = [
    "xin chào",
    "hướng dẫn",
    "bạn là bot à",
    "cam on ban",
    "thu tuc cap lai cccd o dau",
    "tạm biệt",
]


@dataclass
class Result:
    """One measured run."""

    name: str
    messages: int
    seconds: float
    latencies: list[float]

    @property
    def throughput(self) -> float:
        """Messages per second."""
        return self.messages / self.seconds

    def pct(self, q: float) -> float:
        """Latency percentile in milliseconds."""
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def raw_user(http: aiohttp.ClientSession, rasa: str, rounds: int, lat: list[float]) -> None:
    """One conversation straight to Rasa's REST channel; appends each turn's latency."""
    sender = uuid.uuid4().hex
    for _ in range(rounds):
        for text in SCRIPT:
            start = time.perf_counter()
            async with http.post(
                f"{rasa}/webhooks/rest/webhook", json={"sender": sender, "message": text}
            ) as resp:
                body = await resp.json()
                assert resp.status == 200 and body, body
            lat.append(time.perf_counter() - start)


async def gateway_user(http: aiohttp.ClientSession, gw: str, rounds: int, lat: list[float]) -> None:
    """One conversation through the gateway's web chat; appends each turn's latency."""
    async with http.post(f"{gw}/api/web/session", json={}) as resp:
        session_id = (await resp.json())["session_id"]
    for _ in range(rounds):
        for text in SCRIPT:
            start = time.perf_counter()
            async with http.post(
                f"{gw}/api/web/messages",
                json={
                    "session_id": session_id,
                    "client_message_id": uuid.uuid4().hex,
                    "text": text,
                },
            ) as resp:
                body = await resp.json()
                assert resp.status == 200 and body["replies"], body
            lat.append(time.perf_counter() - start)


async def measure(name: str, base: str, users: int, rounds: int) -> Result:
    """Run `users` concurrent conversations of `rounds` × SCRIPT through one path."""
    user = raw_user if name == "rasa-rest" else gateway_user
    latencies: list[float] = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        start = time.perf_counter()
        await asyncio.gather(*(user(http, base, rounds, latencies) for _ in range(users)))
        seconds = time.perf_counter() - start
    return Result(name, len(latencies), seconds, latencies)


async def measure_all(
    paths: dict[str, str], users: int, rounds: int, repeats: int
) -> dict[str, list[Result]]:
    """Warm up both paths, then alternate them `repeats` times."""
    for name, base in paths.items():  # warm-up: connections, lazy imports, caches
        await measure(name, base, users=4, rounds=1)
    results: dict[str, list[Result]] = {name: [] for name in paths}
    for _ in range(repeats):
        for name, base in paths.items():
            results[name].append(await measure(name, base, users, rounds))
    return results


def run(model: Path, users: int, rounds: int, repeats: int) -> None:
    """Engine and gateway as real processes: measure both paths, print the table."""
    with stack(model, "giaitrinh-bench-") as running, running.gateway() as gateway_url:
        paths = {"rasa-rest": running.engine.url, "gateway-web": gateway_url}
        results = asyncio.run(measure_all(paths, users, rounds, repeats))

    def best(name: str) -> Result:
        return max(results[name], key=lambda r: r.throughput)

    raw, gw = best("rasa-rest"), best("gateway-web")
    print(f"# gateway vs raw Rasa REST — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(
        f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; model {model.name}"
    )
    print(
        f"workload: {users} concurrent conversations × {rounds} rounds × {len(SCRIPT)} messages, "
        f"best of {repeats} alternating runs"
    )
    print()
    print("| path | messages | msg/s | p50 ms | p95 ms | all runs msg/s |")
    print("|---|---:|---:|---:|---:|---|")
    for r in (raw, gw):
        runs = ", ".join(f"{x.throughput:.1f}" for x in results[r.name])
        print(
            f"| {r.name} | {r.messages} | {r.throughput:.1f} | {r.pct(0.5):.1f} | "
            f"{r.pct(0.95):.1f} | {runs} |"
        )
    median_ratio = statistics.median(
        g.throughput / r.throughput
        for g, r in zip(results["gateway-web"], results["rasa-rest"], strict=True)
    )
    print()
    print(
        f"throughput ratio gateway/raw: best {gw.throughput / raw.throughput:.3f}, "
        f"median of paired runs {median_ratio:.3f} (goal ≥ 0.9)"
    )


def main() -> None:
    """CLI entry."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    run(args.model, args.users, args.rounds, args.repeats)


if __name__ == "__main__":
    main()
