"""What searching costs on the whole path: web channel → engine → answer action → reply.

Same engine, same questions (tests/data/qa_eval.yaml), one citizen at a time; the gateway
runs once with the real answer action and once with GIAITRINH_ANSWER_NOOP=1 (the action
replies without searching), alternating. Prints mean and p95 per question and the ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from pathlib import Path

import aiohttp
import yaml

from bench.stack import stack
from bot.settings import PROJECT_ROOT

QUESTIONS = [
    q["q"]
    for q in yaml.safe_load((PROJECT_ROOT / "tests/data/qa_eval.yaml").read_text())["questions"]
]


async def ask_all(base: str, rounds: int) -> list[float]:
    """Ask every question `rounds` times, one at a time; latency of each."""
    timings: list[float] = []
    async with aiohttp.ClientSession() as http:
        for _ in range(rounds):
            for question in QUESTIONS:
                async with http.post(f"{base}/api/web/session", json={}) as resp:
                    session_id = (await resp.json())["session_id"]
                start = time.perf_counter()
                async with http.post(
                    f"{base}/api/web/messages",
                    json={
                        "session_id": session_id,
                        "client_message_id": uuid.uuid4().hex,
                        "text": question,
                    },
                ) as resp:
                    body = await resp.json()
                    assert resp.status == 200 and body["replies"], body
                timings.append(time.perf_counter() - start)
    return timings


def main() -> None:
    """Alternate real and no-op answer actions on one engine; print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    results: dict[str, list[float]] = {"search": [], "no-op": []}
    with stack(args.model, "giaitrinh-answer-") as running:
        for _ in range(args.repeats):
            for mode in ("search", "no-op"):
                noop = "1" if mode == "no-op" else "0"
                with running.gateway(GIAITRINH_ANSWER_NOOP=noop) as base:
                    asyncio.run(ask_all(base, 1))  # warm-up (index build, connections)
                    results[mode] += asyncio.run(ask_all(base, args.rounds))

    def p95(values: list[float]) -> float:
        return 1000 * sorted(values)[int(0.95 * len(values))]

    print("| answer action | questions | mean ms | p50 ms | p95 ms |")
    print("|---|---:|---:|---:|---:|")
    for mode, values in results.items():
        print(
            f"| {mode} | {len(values)} | {1000 * statistics.mean(values):.1f} | "
            f"{1000 * statistics.median(values):.1f} | {p95(values):.1f} |"
        )
    ratio = statistics.mean(results["search"]) / statistics.mean(results["no-op"])
    print(f"cost ratio search/no-op (mean): {ratio:.3f} (goal ≤ 1.1)")


if __name__ == "__main__":
    main()
