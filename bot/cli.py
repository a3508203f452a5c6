"""The `giaitrinh` command line: serve, database migrations, demo data."""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web
from pydantic import SecretStr

from bot import cli_ops, cli_reports, cli_users
from bot.cli_common import on_database
from bot.domain.actors import Actor
from bot.domain.roles import Role
from bot.logging import configure_logging
from bot.settings import Settings, get_settings

if TYPE_CHECKING:
    from bot.store.db import Database


def _cli_actor(author: str) -> Actor:
    """Who acts from the command line: an admin (whoever runs it can read the database)."""
    return Actor(name=author, role=Role.ADMIN)


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    from bot.web.app import create_app

    host = args.host or settings.host
    port = args.port or settings.port
    if args.telegram_polling:
        settings = settings.model_copy(update={"telegram_mode": "polling"})
    print(f"giaitrinh gateway on http://{host}:{port}/  (web chat at /, health at /healthz)")
    web.run_app(create_app(settings), host=host, port=port, print=None)
    return 0


def _up(settings: Settings, args: argparse.Namespace) -> int:
    """Engine and gateway together, for `make run`; Ctrl-C stops both."""
    import secrets
    from pathlib import Path

    from bot.enginectl import EngineConfig, EngineProcess, tracker_file
    from bot.settings import PROJECT_ROOT
    from bot.web.app import create_app

    tracker = tracker_file(settings.tracker_db_url)
    if tracker is None:
        print("giaitrinh up runs the engine on a SQLite tracker file", file=sys.stderr)
        return 2

    rasa_port = int(settings.rasa_url.rsplit(":", 1)[1].split("/")[0])
    rasa_token = settings.rasa_token.get_secret_value() or secrets.token_urlsafe(24)
    action_token = settings.action_token.get_secret_value() or secrets.token_urlsafe(24)
    settings = settings.model_copy(
        update={"rasa_token": SecretStr(rasa_token), "action_token": SecretStr(action_token)}
    )
    host, port = settings.host, settings.port
    engine = EngineProcess(
        EngineConfig(
            model=Path(args.model).resolve(),
            port=rasa_port,
            token=rasa_token,
            action_url=f"http://127.0.0.1:{port}/webhooks/actions",
            action_token=action_token,
            tracker_db=tracker,
            response_timeout=settings.engine_timeout,
            log_file=PROJECT_ROOT / "var" / "log" / "rasa.log",
        )
    )
    print(
        f"starting the Rasa engine on 127.0.0.1:{rasa_port} (log: var/log/rasa.log)...", flush=True
    )
    engine.start()

    def listening(_banner: str) -> None:
        """aiohttp calls this once the gateway accepts connections: only then the URLs."""
        print("", flush=True)
        print(f"  Web chat:  http://{host}:{port}/", flush=True)
        print(f"  Console:   http://{host}:{port}/console/", flush=True)
        print(f"  Health:    http://{host}:{port}/healthz", flush=True)
        print(f"  Engine:    {settings.rasa_url} (API token in this process only)", flush=True)
        print("  Press Ctrl-C to stop both.", flush=True)

    try:
        engine.wait_ready()
        web.run_app(create_app(settings), host=host, port=port, print=listening)
    finally:
        engine.stop()
        print("stopped gateway and engine", flush=True)
    return 0


def _db_upgrade(settings: Settings, args: argparse.Namespace) -> int:
    from bot.store.migrate import upgrade_sync

    upgrade_sync(settings.database_url, args.revision)
    print(f"database at revision {args.revision}")
    return 0


def _demo_load(settings: Settings, _args: argparse.Namespace) -> int:
    from bot.services.demo import load_demo
    from bot.store.db import Database

    async def run() -> None:
        db = Database(settings.database_url)
        try:
            result = await load_demo(db)
        finally:
            await db.dispose()
        print(
            f"demo data: {result.topics} topics, explanations added {result.explanations_added}, "
            f"unchanged {result.explanations_unchanged}"
        )

    asyncio.run(run())
    return 0


def _telegram_set_webhook(settings: Settings, _args: argparse.Namespace) -> int:
    from telegram.error import TelegramError

    from connectors.telegram import make_bot

    token = settings.telegram_token.get_secret_value()
    secret = settings.telegram_webhook_secret.get_secret_value()
    if not token or not secret or not settings.public_url.startswith("https://"):
        print(
            "set GIAITRINH_TELEGRAM_TOKEN, GIAITRINH_TELEGRAM_WEBHOOK_SECRET and an https "
            "GIAITRINH_PUBLIC_URL first",
            file=sys.stderr,
        )
        return 2
    url = f"{settings.public_url.rstrip('/')}/webhooks/telegram"

    async def run() -> bool:
        async with make_bot(token, settings.telegram_api_base) as bot:
            return bool(
                await bot.set_webhook(
                    url=url,
                    secret_token=secret,
                    allowed_updates=["message", "edited_message", "callback_query"],
                )
            )

    try:
        ok = asyncio.run(run())
    except TelegramError as exc:  # its InvalidToken message quotes the token: not on screen
        print(f"Telegram refused: {exc.message.replace(token, '<token>')}", file=sys.stderr)
        return 1
    print(f"webhook {'set' if ok else 'NOT set'}: {url}")
    return 0 if ok else 1


def _print_json(
    settings: Settings, work: Callable[[Database], Awaitable[dict[str, Any]]], indent: int | None
) -> int:
    """Run `work` on the database, print its JSON; a domain error is one line and exit 2."""
    import json

    return on_database(
        settings, work, lambda result: print(json.dumps(result, ensure_ascii=False, indent=indent))
    )


def _explanation_publish(settings: Settings, args: argparse.Namespace) -> int:
    """Publish a Markdown file with a YAML front matter (title, topics, localities, ...)."""
    from pathlib import Path

    import yaml

    from bot.services.explanations import publish
    from bot.web.api_explanations import explanation_spec

    text = Path(args.file).read_text(encoding="utf-8")
    match = re.match(r"^---\s*\n(.*?)\n---\s*\n(.*)$", text, re.S)
    if match is None:
        print("the file must start with a YAML front matter between --- lines", file=sys.stderr)
        return 2
    meta = yaml.safe_load(match.group(1)) or {}
    meta["body"] = match.group(2).strip()
    if args.agency:
        meta["agency"] = args.agency

    async def work(db: Database) -> dict[str, Any]:
        return (await publish(db, explanation_spec(meta), _cli_actor(args.author))).as_json()

    return _print_json(settings, work, None)


def _broadcast_send(settings: Settings, args: argparse.Namespace) -> int:
    """Broadcast the current version of an explanation to whoever has not received it."""
    from bot.services.explanations import send_again

    async def work(db: Database) -> dict[str, Any]:
        return (await send_again(db, args.slug, _cli_actor(args.author))).as_json()

    return _print_json(settings, work, None)


def _broadcast_report(settings: Settings, args: argparse.Namespace) -> int:
    """Pending, sent, failed by reason, blocked, unknown, with timestamps."""
    from bot.services.broadcasts import broadcast_report

    async def work(db: Database) -> dict[str, Any]:
        return (await broadcast_report(db, args.id)).as_json()

    return _print_json(settings, work, 2)


def _answer(settings: Settings, args: argparse.Namespace) -> int:
    """What the bot would answer: zone, ranked explanations with scores, excerpt."""
    from bot.services.knowledge import AnswerReport, answer_report

    def show(report: AnswerReport) -> None:
        print(report.json_text() if args.json else "\n".join(report.lines()))

    return on_database(settings, lambda db: answer_report(db, args.question), show)


def _privacy_purge(settings: Settings, _args: argparse.Namespace) -> int:
    """One round of the retention job (for cron when the gateway's own loop is not wanted)."""
    from bot.services import privacy

    async def work(db: Database) -> dict[str, Any]:
        privacy.configure(db, settings.tracker_db_url, settings.retention_days)
        try:
            return dict((await privacy.purge_expired(db)).as_json())
        finally:
            await privacy.close(db)

    return _print_json(settings, work, None)


def build_parser() -> argparse.ArgumentParser:
    """All sub-commands; later features add theirs here."""
    parser = argparse.ArgumentParser(prog="giaitrinh", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the gateway (web chat, webhooks, action endpoint)")
    serve.add_argument("--host", default=None)
    serve.add_argument("--port", type=int, default=None)
    serve.add_argument(
        "--telegram-polling",
        action="store_true",
        help="receive Telegram updates by long polling (no public URL needed)",
    )
    serve.set_defaults(func=_serve)

    up = sub.add_parser("up", help="run the engine and the gateway together (make run)")
    up.add_argument("--model", required=True, help="trained model, e.g. from scripts/train.sh")
    up.set_defaults(func=_up)

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_sub.add_parser("upgrade", help="apply migrations")
    upgrade.add_argument("revision", nargs="?", default="head")
    upgrade.set_defaults(func=_db_upgrade)

    demo = sub.add_parser("demo", help="demo data")
    demo_sub = demo.add_subparsers(dest="demo_command", required=True)
    load = demo_sub.add_parser("load", help="load the demo agency and explanations")
    load.set_defaults(func=_demo_load)

    cli_users.add_commands(sub)
    cli_ops.add_commands(sub)
    cli_reports.add_commands(sub)

    expl = sub.add_parser("explanation", help="policy explanations")
    expl_sub = expl.add_subparsers(dest="explanation_command", required=True)
    pub = expl_sub.add_parser("publish", help="publish FILE (Markdown with YAML front matter)")
    pub.add_argument("file")
    pub.add_argument("--author", default="cli")
    pub.add_argument("--agency", help="slug of the publishing agency (or `agency:` in the file)")
    pub.set_defaults(func=_explanation_publish)

    bc = sub.add_parser("broadcast", help="broadcasts to subscribers")
    bc_sub = bc.add_subparsers(dest="broadcast_command", required=True)
    rep = bc_sub.add_parser("report", help="delivery report of a broadcast")
    rep.add_argument("id", type=int)
    rep.set_defaults(func=_broadcast_report)
    snd = bc_sub.add_parser(
        "send", help="send an explanation's current version to subscribers who lack it"
    )
    snd.add_argument("slug")
    snd.add_argument("--author", default="cli")
    snd.set_defaults(func=_broadcast_send)

    priv = sub.add_parser("privacy", help="personal data")
    priv_sub = priv.add_subparsers(dest="privacy_command", required=True)
    purge = priv_sub.add_parser(
        "purge", help="erase texts and dialogue state older than the retention period"
    )
    purge.set_defaults(func=_privacy_purge)

    ans = sub.add_parser("answer", help="what the bot would answer to a question")
    ans.add_argument("question")
    ans.add_argument("--json", action="store_true")
    ans.set_defaults(func=_answer)

    tg = sub.add_parser("telegram", help="Telegram bot set-up")
    tg_sub = tg.add_subparsers(dest="telegram_command", required=True)
    set_webhook = tg_sub.add_parser("set-webhook", help="register {public_url}/webhooks/telegram")
    set_webhook.set_defaults(func=_telegram_set_webhook)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `giaitrinh` script."""
    args = build_parser().parse_args(argv)
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json, settings.secret_values())
    return int(args.func(settings, args))


if __name__ == "__main__":
    sys.exit(main())
