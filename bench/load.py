"""Scaling out (`make bench-load`): conversations per second and p95 with 1 and 2 engine
replicas × 1 and 2 gateways, in the production layout of bot/cluster.py on this host.

Each size runs the cluster's own programs under bot/supervisor.py: PostgreSQL (the gateway's
database and the engines' tracker store), Redis (the engines' lock store), the engines, the
gateways, and nginx (which carries the engines' action calls to any gateway); no dispatcher.
Concurrent web-chat conversations (bench.gateway_vs_rasa's SCRIPT) are spread over the
gateways directly, and the same conversations go straight to the engines' REST channel
(round-robin) for the gateway/engine ratio at that size; the two paths alternate.
While each run goes, the CPU seconds of every process and its descendants are read from
/proc: per 1,000 messages they give the share of engine, gateway and database, and a
projection to a bigger host. Usage: python -m bench.load --model models/nlu-....tar.gz
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shutil
import statistics
import tempfile
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

from bench.gateway_vs_rasa import SCRIPT, Result, raw_user
from bench.servers import free_block
from bench.stack import ENGINE_TIMEOUT, UNLIMITED_WEB
from bot.cluster import Layout, prepare_postgres, programs
from bot.supervisor import Supervisor

RAW, GATEWAY = "rasa-rest", "gateway-web"
KINDS = ("engine", "gateway", "postgres", "redis", "nginx")  # the cluster's process types
SERVER = KINDS  # what a production host runs; the load generator ("client") is not in it
CPU_COLUMNS = (*KINDS, "client")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# The benchmark posts from one address as fast as it can: lift the web chat's limits.
BENCH_ENV = {
    "GIAITRINH_LOG_LEVEL": "WARNING",
    "GIAITRINH_ENGINE_TIMEOUT": str(ENGINE_TIMEOUT),
    **UNLIMITED_WEB,
}


def parse_stat(line: str) -> tuple[int, int, float]:
    """pid, parent pid and CPU seconds (its own plus its reaped children's) of a
    /proc/<pid>/stat line; the command name in parentheses may hold spaces."""
    pid = int(line.split(" ", 1)[0])
    fields = line.rsplit(")", 1)[1].split()
    ticks = sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
    return pid, int(fields[1]), ticks / CLOCK_TICKS


def tree_cpu(procs: dict[int, tuple[int, float]], roots: dict[str, int]) -> dict[str, float]:
    """CPU seconds per process type: each program's process and all its descendants
    (an engine's `rasa run`, PostgreSQL's backends). A child that exits is counted in its
    parent's reaped time, so the difference of two readings is exact."""
    children: dict[int, list[int]] = defaultdict(list)
    for pid, (ppid, _) in procs.items():
        children[ppid].append(pid)
    totals = dict.fromkeys(KINDS, 0.0)
    for name, root in roots.items():
        kind = name.rstrip("0123456789")
        todo = [root]
        while todo:
            pid = todo.pop()
            if pid in procs:
                totals[kind] += procs[pid][1]
                todo.extend(children[pid])
    return totals


def read_procs() -> dict[int, tuple[int, float]]:
    """Every process now: pid → (parent pid, CPU seconds)."""
    procs: dict[int, tuple[int, float]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                pid, ppid, cpu = parse_stat((entry / "stat").read_text())
            except (OSError, ValueError, IndexError):
                continue  # exited meanwhile
            procs[pid] = (ppid, cpu)
    return procs


def machine_busy(proc_stat: str) -> float:
    """CPU seconds the machine has been busy (all cores), from /proc/stat's first line."""
    ticks = [int(x) for x in proc_stat.split("\n", 1)[0].split()[1:9]]
    return (sum(ticks) - ticks[3] - ticks[4]) / CLOCK_TICKS  # minus idle and iowait


@dataclass
class Reading:
    """The CPU clocks at one moment."""

    machine: float
    client: float
    kinds: dict[str, float]

    @classmethod
    def now(cls, roots: dict[str, int]) -> Reading:
        """Read /proc for the cluster, the machine, and this process (the load generator)."""
        times = os.times()
        machine = machine_busy(Path("/proc/stat").read_text())
        return cls(machine, times.user + times.system, tree_cpu(read_procs(), roots))


def cpu_between(before: Reading, after: Reading) -> dict[str, float]:
    """CPU seconds of each process type, the load generator, and everything else on the
    machine (other work sharing it) between two readings."""
    used = {k: after.kinds[k] - before.kinds[k] for k in after.kinds}
    used["client"] = after.client - before.client
    used["other"] = max(0.0, after.machine - before.machine - sum(used.values()))
    return used


@dataclass
class Window:
    """One measured run of one path and the CPU used meanwhile."""

    result: Result
    cpu: dict[str, float]
    polled: int = 0  # web turns whose answer came by polling (taken by another gateway)
    transactions: dict[str, int] = field(default_factory=dict)  # per database

    def per_thousand(self, kind: str) -> float:
        """CPU seconds of a process type per 1,000 messages."""
        return 1000 * self.cpu[kind] / self.result.messages


@dataclass
class Size:
    """Every run at one size (engines × gateways)."""

    engines: int
    gateways: int
    runs: dict[str, list[Window]] = field(default_factory=lambda: {RAW: [], GATEWAY: []})
    load: tuple[str, str] = ("", "")  # /proc/loadavg before and after
    turns: list[int] = field(default_factory=list)  # per engine, as the gateways counted

    def best(self, path: str) -> Window:
        """The run with the highest throughput."""
        return max(self.runs[path], key=lambda w: w.result.throughput)

    def ratio(self) -> float:
        """Median over the paired runs of gateway/raw throughput."""
        pairs = zip(self.runs[GATEWAY], self.runs[RAW], strict=True)
        return statistics.median(g.result.throughput / r.result.throughput for g, r in pairs)

    def cpu_per_message(self, kind: str) -> float:
        """CPU seconds per message of a process type over all gateway runs."""
        runs = self.runs[GATEWAY]
        return sum(w.cpu[kind] for w in runs) / sum(w.result.messages for w in runs)


def parse_sizes(text: str) -> list[Size]:
    """ "1x1,2x2" → sizes of (engines, gateways)."""
    sizes = []
    for item in text.split(","):
        engines, gateways = (int(n) for n in item.strip().split("x"))
        sizes.append(Size(engines, gateways))
    return sizes


DATABASES = ("giaitrinh", "giaitrinh_tracker")  # the gateway's and the engines' tracker store


async def transactions(layout: Layout) -> dict[str, int]:
    """Transactions each database has ended so far (PostgreSQL's statistics, which a busy
    backend reports at most once a second: a few per window are counted late)."""
    import asyncpg  # the gateway's driver

    conn = await asyncpg.connect(
        host="127.0.0.1", port=layout.postgres_port, user="giaitrinh", database="postgres"
    )
    try:
        rows = await conn.fetch(
            "SELECT datname, xact_commit + xact_rollback AS n FROM pg_stat_database"
            " WHERE datname = ANY($1::text[])",
            list(DATABASES),
        )
    finally:
        await conn.close()
    return {row["datname"]: int(row["n"]) for row in rows}


POLL_S = 0.1  # the page polls every 2 s; the benchmark looks sooner, to time the reply


async def web_user(
    http: aiohttp.ClientSession, gateway: str, rounds: int, lat: list[float], polled: list[int]
) -> None:
    """One conversation through a gateway's web chat, as the page does it: post, and when
    the answer is not in the response (another gateway's retry loop took the turn while
    this one was storing it), poll until it is there; appends each turn's latency."""
    async with http.post(f"{gateway}/api/web/session", json={}) as resp:
        session_id = (await resp.json())["session_id"]
    for _ in range(rounds):
        for text in SCRIPT:
            start = time.perf_counter()
            body = {"session_id": session_id, "client_message_id": uuid.uuid4().hex, "text": text}
            async with http.post(f"{gateway}/api/web/messages", json=body) as resp:
                answer = await resp.json()
                assert resp.status == 200, answer
            if not answer["replies"]:
                polled.append(1)
                query = {"session_id": session_id, "after": str(answer["message"]["id"])}
                while True:
                    await asyncio.sleep(POLL_S)
                    async with http.get(f"{gateway}/api/web/messages", params=query) as resp:
                        listed = (await resp.json())["messages"]
                    if any(m["direction"] == "out" for m in listed):
                        break
            lat.append(time.perf_counter() - start)


async def drive(
    http: aiohttp.ClientSession, path: str, bases: list[str], users: int, rounds: int
) -> tuple[Result, int]:
    """`users` concurrent conversations of `rounds` × SCRIPT, user i on bases[i % len];
    the result and how many web turns were answered through polling."""
    latencies: list[float] = []
    polled: list[int] = []
    start = time.perf_counter()
    await asyncio.gather(
        *(
            raw_user(http, bases[i % len(bases)], rounds, latencies)
            if path == RAW
            else web_user(http, bases[i % len(bases)], rounds, latencies, polled)
            for i in range(users)
        )
    )
    seconds = time.perf_counter() - start
    return Result(path, len(latencies), seconds, latencies), len(polled)


async def engines_ready(http: aiohttp.ClientSession, gateways: list[str]) -> None:
    """Until every gateway sees every engine ready (the model is loaded)."""
    for gateway in gateways:
        while True:
            async with http.get(f"{gateway}/healthz") as resp:
                engines = (await resp.json())["engines"]
            if all(e["ready"] for e in engines):
                break
            await asyncio.sleep(1)


def loadavg() -> str:
    """The machine's load averages (1, 5, 15 minutes)."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


async def run_size(
    size: Size, model: Path, work: Path, users: int, rounds: int, repeats: int
) -> None:
    """Start the layout at this size, warm up, alternate both paths `repeats` times, stop."""
    base = free_block((0, 1, 2, 201, 202, 301, 302))
    root = work / f"e{size.engines}g{size.gateways}"
    root.mkdir(mode=0o755)  # PostgreSQL runs as the postgres user, who must reach it
    layout = Layout(
        root=root, model=model, gateways=size.gateways, engines=size.engines, dispatchers=0,
        port=base, first_gateway_port=base + 1, first_engine_port=base + 201,
        postgres_port=base + 301, redis_port=base + 302,
    )  # fmt: skip
    prepare_postgres(layout)
    processes = [replace(p, env={**p.env, **BENCH_ENV}) for p in programs(layout, demo=True)]
    gateways = [f"http://127.0.0.1:{p}" for p in layout.gateway_ports()]
    engines = [f"http://127.0.0.1:{p}" for p in layout.engine_ports()]
    bases = {RAW: engines, GATEWAY: gateways}
    with (work / f"{root.name}.log").open("w", encoding="utf-8") as log:
        supervisor = Supervisor(processes, out=log)
        try:
            await supervisor.start()
            roots = {name: supervisor.pid(name) for name in supervisor.programs}
            timeout = aiohttp.ClientTimeout(total=120)
            connector = aiohttp.TCPConnector(limit=0)
            async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
                async with asyncio.timeout(300):
                    await engines_ready(http, gateways)
                for path in (RAW, GATEWAY):  # connections, lazy imports, caches
                    await drive(http, path, bases[path], users, rounds=1)
                size.load = (loadavg(), "")
                for _ in range(repeats):
                    for path in (RAW, GATEWAY):
                        committed = await transactions(layout)  # first: its connection is no load
                        before = Reading.now(roots)
                        result, polled = await drive(http, path, bases[path], users, rounds)
                        used = cpu_between(before, Reading.now(roots))
                        after = await transactions(layout)
                        done = {db: after[db] - committed[db] for db in DATABASES}
                        size.runs[path].append(Window(result, used, polled, done))
                size.load = (size.load[0], loadavg())
                turns = [0] * size.engines
                for gateway in gateways:
                    async with http.get(f"{gateway}/healthz") as resp:
                        for i, engine in enumerate((await resp.json())["engines"]):
                            turns[i] += engine["turns"]
                size.turns = turns
        finally:
            await supervisor.stop()
    shutil.rmtree(root / "postgres", ignore_errors=True)  # keep the logs, not the data


def projection(sizes: list[Size], cores: int) -> tuple[float, dict[str, float]]:
    """Messages/s a host of `cores` could serve with enough processes of each type (all its
    cores busy, load generator elsewhere), and the cores each type would use meanwhile, from
    the CPU seconds per message measured at every size."""
    per_message = {k: statistics.mean(s.cpu_per_message(k) for s in sizes) for k in SERVER}
    throughput = cores / sum(per_message.values())
    return throughput, {k: throughput * c for k, c in per_message.items()}


def report(sizes: list[Size], model: Path, users: int, rounds: int, repeats: int) -> None:
    """The tables in Markdown, for docs/benchmarks.md."""
    cores = os.cpu_count() or 1
    print(f"# Scaling out — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(
        f"machine: {platform.node()} {platform.machine()}, {cores} cores, "
        f"Python {platform.python_version()}; model {model.name}; PostgreSQL (gateway database "
        "and tracker store), Redis lock store, nginx for action calls"
    )
    print(
        f"workload: {users} concurrent conversations × {rounds} rounds × {len(SCRIPT)} "
        f"messages per run; {repeats} alternating runs per path after a warm-up"
    )
    print()
    print(
        "| engines | gateways | gateway msg/s | p50 ms | p95 ms | raw engine msg/s | raw p95 ms "
        "| ratio best | ratio median | all gateway runs | all raw runs | turns per engine "
        "| answered by polling |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---|---:|")
    for s in sizes:
        gw, raw = s.best(GATEWAY).result, s.best(RAW).result
        print(
            f"| {s.engines} | {s.gateways} | {gw.throughput:.1f} | {gw.pct(0.5):.0f} | "
            f"{gw.pct(0.95):.0f} | {raw.throughput:.1f} | {raw.pct(0.95):.0f} | "
            f"{gw.throughput / raw.throughput:.2f} | {s.ratio():.2f} | "
            + ", ".join(f"{w.result.throughput:.1f}" for w in s.runs[GATEWAY])
            + " | "
            + ", ".join(f"{w.result.throughput:.1f}" for w in s.runs[RAW])
            + f" | {', '.join(map(str, s.turns))} | {sum(w.polled for w in s.runs[GATEWAY])} |"
        )
    by_size = {(s.engines, s.gateways): s for s in sizes}
    print()
    for g in (1, 2):
        one, two = by_size.get((1, g)), by_size.get((2, g))
        if one and two:
            gain = two.best(GATEWAY).result.throughput / one.best(GATEWAY).result.throughput
            raw_gain = two.best(RAW).result.throughput / one.best(RAW).result.throughput
            print(
                f"2 engines / 1 engine, {g} gateway(s): {gain:.2f}× "
                f"(raw REST {raw_gain:.2f}×; goal ≥ 1.6)"
            )
    print()
    print(
        "CPU seconds per 1,000 messages (all runs of a path), and the cores in use meanwhile: "
        "the cluster's (server), the machine's, and other work's on the machine:"
    )
    print()
    print(
        "| engines | gateways | path | "
        + " | ".join(CPU_COLUMNS)
        + " | engine share | server cores | machine cores (of "
        + f"{cores}) | other work's cores | gateway db tx/msg | tracker tx/msg "
        + "| load before → after |"
    )
    print("|---:|---:|---|" + "---:|" * (len(CPU_COLUMNS) + 6) + "---|")
    for s in sizes:
        for path in (GATEWAY, RAW):
            runs = s.runs[path]
            messages = sum(w.result.messages for w in runs)
            seconds = sum(w.result.seconds for w in runs)
            used = {k: sum(w.cpu[k] for w in runs) for k in [*CPU_COLUMNS, "other"]}
            server = sum(used[k] for k in SERVER)
            print(
                f"| {s.engines} | {s.gateways} | {path} | "
                + " | ".join(f"{1000 * used[k] / messages:.1f}" for k in CPU_COLUMNS)
                + f" | {used['engine'] / server:.0%} | {server / seconds:.2f} | "
                + f"{sum(used.values()) / seconds:.2f} | {used['other'] / seconds:.2f} | "
                + " | ".join(
                    f"{sum(w.transactions.get(db, 0) for w in runs) / messages:.1f}"
                    for db in DATABASES
                )
                + f" | {s.load[0]} → {s.load[1]} |"
            )
    print()
    print("Projection (CPU-bound, linear; the mean CPU seconds per message of all sizes):")
    print()
    print("| cores | msg/s at 100 % | at 75 % | engine cores | gateway cores | postgres cores |")
    print("|---:|---:|---:|---:|---:|---:|")
    for n in (cores, 4, 8, 16, 32):
        throughput, use = projection(sizes, n)
        print(
            f"| {n} | {throughput:.0f} | {0.75 * throughput:.0f} | {use['engine']:.1f} | "
            f"{use['gateway']:.1f} | {use['postgres']:.1f} |"
        )
    one = by_size.get((1, 1))
    if one:
        engine_cores = one.cpu_per_message("engine") * one.best(GATEWAY).result.throughput
        print()
        print(
            f"One engine at {one.best(GATEWAY).result.throughput:.1f} msg/s used "
            f"{engine_cores:.2f} cores; one engine process tops out near "
            f"{1 / one.cpu_per_message('engine'):.0f} msg/s if it can use one core."
        )


async def run_all(
    model: Path, work: Path, sizes: list[Size], users: int, rounds: int, repeats: int
) -> None:
    """Every size in turn, each in a fresh cluster folder under one work folder."""
    for size in sizes:
        began = time.monotonic()
        await run_size(size, model, work, users, rounds, repeats)
        print(
            f"size {size.engines} engines × {size.gateways} gateways: "
            f"{time.monotonic() - began:.0f} s",
            flush=True,
        )


def main() -> None:
    """CLI entry."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--sizes", default="1x1,2x1,1x2,2x2", help="engines x gateways")
    args = parser.parse_args()
    sizes = parse_sizes(args.sizes)
    model = args.model.resolve()
    work = Path(tempfile.mkdtemp(prefix="giaitrinh-load-"))
    work.chmod(0o755)  # PostgreSQL runs as the postgres user, who must reach its folder
    print(f"load before: {loadavg()}", flush=True)
    asyncio.run(run_all(model, work, sizes, args.users, args.rounds, args.repeats))
    print(f"load after: {loadavg()}; logs in {work}")
    print()
    report(sizes, model, args.users, args.rounds, args.repeats)


if __name__ == "__main__":
    main()
