"""What searching costs on the whole path: web channel → engine → answer action → reply.

Same engine, same questions (tests/data/qa_eval.yaml), one citizen at a time; the gateway
runs once with the real answer action and once with GIAITRINH_ANSWER_NOOP=1 (the action
replies without searching), alternating. Prints mean and p95 per question and the ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp
import yaml

from bench.gateway_vs_rasa import free_port, wait_http
from bot.enginectl import EngineConfig, EngineProcess
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
    work = Path(tempfile.mkdtemp(prefix="giaitrinh-answer-"))
    rasa_token, action_token = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    port = free_port()
    engine = EngineProcess(
        EngineConfig(
            model=args.model.resolve(),
            port=free_port(),
            token=rasa_token,
            action_url=f"http://127.0.0.1:{port}/webhooks/actions",
            action_token=action_token,
            tracker_db=work / "tracker.db",
            log_file=work / "rasa.log",
        )
    )
    env = {
        **os.environ,
        "GIAITRINH_DATABASE_URL": f"sqlite+aiosqlite:///{work / 'bench.db'}",
        "GIAITRINH_RASA_URL": engine.url,
        "GIAITRINH_RASA_TOKEN": rasa_token,
        "GIAITRINH_ACTION_TOKEN": action_token,
        "GIAITRINH_LOG_LEVEL": "WARNING",
    }
    giaitrinh = str(Path(sys.executable).parent / "giaitrinh")
    subprocess.run([giaitrinh, "db", "upgrade"], env=env, check=True, capture_output=True)
    subprocess.run([giaitrinh, "demo", "load"], env=env, check=True, capture_output=True)
    engine.start()
    results: dict[str, list[float]] = {"search": [], "no-op": []}
    try:
        engine.wait_ready()
        for _ in range(args.repeats):
            for mode in ("search", "no-op"):
                mode_env = {**env, "GIAITRINH_ANSWER_NOOP": "1" if mode == "no-op" else "0"}
                with (work / f"gateway-{mode}.log").open("ab") as log:
                    gateway = subprocess.Popen(
                        [giaitrinh, "serve", "--port", str(port)], env=mode_env, stderr=log
                    )
                    try:
                        wait_http(f"http://127.0.0.1:{port}/healthz")
                        base = f"http://127.0.0.1:{port}"
                        asyncio.run(ask_all(base, 1))  # warm-up (index build, connections)
                        results[mode] += asyncio.run(ask_all(base, args.rounds))
                    finally:
                        gateway.terminate()
                        gateway.wait(timeout=20)
    finally:
        engine.stop()

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
