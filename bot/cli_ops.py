"""`giaitrinh engine` (one engine replica in the foreground) and `giaitrinh cluster` (the
production layout on one host, bot/cluster.py): the commands an operator runs."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from pathlib import Path
from typing import Any

from bot.settings import PROJECT_ROOT, Settings


def _engine(settings: Settings, args: argparse.Namespace) -> int:
    """One Rasa replica on 127.0.0.1:--port, with the tracker store of GIAITRINH_TRACKER_DB_URL
    (PostgreSQL when several replicas run) and the lock store of GIAITRINH_LOCK_STORE_URL."""
    from bot.enginectl import EngineConfig, EngineProcess, tracker_file

    token = settings.rasa_token.get_secret_value()
    action_token = settings.action_token.get_secret_value()
    if not token or not action_token:
        print(
            "set GIAITRINH_RASA_TOKEN and GIAITRINH_ACTION_TOKEN (the gateways' too)",
            file=sys.stderr,
        )
        return 2
    sqlite_file = tracker_file(settings.tracker_db_url)
    log = Path(args.log) if args.log else PROJECT_ROOT / "var" / "log" / f"rasa-{args.port}.log"
    config = EngineConfig(
        model=Path(args.model).resolve(),
        port=args.port,
        token=token,
        action_url=settings.action_url or f"http://127.0.0.1:{settings.port}/webhooks/actions",
        action_token=action_token,
        tracker_db=sqlite_file or PROJECT_ROOT / "var" / "rasa-tracker.db",
        tracker_url=None if sqlite_file else settings.tracker_db_url,
        lock_store_url=settings.lock_store_url or None,
        response_timeout=settings.engine_timeout,
        log_file=log,
        endpoints_file=log.parent / f"endpoints-{args.port}.yml",
        interface=args.host,
    )
    print(f"engine on {args.host}:{args.port} (log: {log})", flush=True)
    EngineProcess(config).exec()  # returns only if it could not start Rasa
    return 1


def _cluster(settings: Settings, args: argparse.Namespace) -> int:
    """Every process of the production layout on this host, until Ctrl-C (or SIGTERM)."""
    from bot.cluster import Layout, prepare_postgres, programs, write_procfile
    from bot.supervisor import Supervisor

    base = args.internal_ports
    layout = Layout(
        root=Path(args.dir).resolve(),
        model=Path(args.model).resolve(),
        gateways=args.gateways,
        engines=args.engines,
        dispatchers=args.dispatchers,
        port=args.port,
        first_gateway_port=base + 1,
        first_dispatcher_port=base + 101,
        first_engine_port=base + 201,
        postgres_port=base + 301,
        redis_port=base + 302,
    )
    layout.root.mkdir(parents=True, exist_ok=True)
    prepare_postgres(layout)
    processes = programs(layout, demo=args.demo)
    procfile = write_procfile(layout, processes)
    supervisor = Supervisor(processes)

    async def run() -> int:
        stopped = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stopped.set)
        try:
            starting = asyncio.create_task(supervisor.start())
            waiting = asyncio.create_task(stopped.wait())
            await asyncio.wait({starting, waiting}, return_when=asyncio.FIRST_COMPLETED)
            if starting.done():
                starting.result()  # a program that never got ready
                print(
                    f"giaitrinh cluster ready: http://127.0.0.1:{layout.port}/ "
                    f"({layout.gateways} gateways, {layout.engines} engines, "
                    f"{layout.dispatchers} dispatchers; Procfile: {procfile})",
                    flush=True,
                )
                await waiting
            else:
                starting.cancel()
            return 0
        finally:
            await supervisor.stop()

    return asyncio.run(run())


def add_commands(sub: Any) -> None:
    """The operator's commands, on the `giaitrinh` parser."""
    engine = sub.add_parser("engine", help="run one engine replica (Rasa) in the foreground")
    engine.add_argument("--port", type=int, default=5005)
    engine.add_argument(
        "--host", default="127.0.0.1", help="interface (a private address for other hosts)"
    )
    engine.add_argument("--model", required=True, help="trained model, from scripts/train.sh")
    engine.add_argument("--log", help="the engine's log file (default var/log/rasa-PORT.log)")
    engine.set_defaults(func=_engine)

    cluster = sub.add_parser(
        "cluster", help="run the production layout on this host (PostgreSQL, Redis, nginx...)"
    )
    cluster.add_argument("--model", required=True, help="trained model, from scripts/train.sh")
    cluster.add_argument("--gateways", type=int, default=2)
    cluster.add_argument("--engines", type=int, default=2)
    cluster.add_argument("--dispatchers", type=int, default=1)
    cluster.add_argument("--port", type=int, default=8080, help="the public port (nginx)")
    cluster.add_argument(
        "--internal-ports",
        type=int,
        default=18000,
        help="gateways listen from +1, dispatchers +101, engines +201, PostgreSQL +301, Redis +302",
    )
    cluster.add_argument("--dir", default=str(PROJECT_ROOT / "var" / "cluster"))
    cluster.add_argument("--demo", action="store_true", help="load the demo agency and texts")
    cluster.set_defaults(func=_cluster)
