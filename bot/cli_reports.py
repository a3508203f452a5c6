"""`giaitrinh report`: the agencies' report (bot/services/reports.py) as JSON or CSV, run as
an admin like the rest of the command line."""

from __future__ import annotations

import argparse
import json
from datetime import date
from typing import TYPE_CHECKING, Any

from bot.cli_common import on_database
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.services.reports import Report
    from bot.store.db import Database


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text}") from exc


def _report(settings: Settings, args: argparse.Namespace) -> int:
    from bot.domain.actors import Actor
    from bot.domain.reports import ReportPeriod
    from bot.domain.roles import Role
    from bot.services.reports import ReportFilter, report

    async def work(db: Database) -> Report:
        wanted = ReportFilter(
            period=ReportPeriod(args.from_day, args.to_day),
            agency=args.agency,
            locality=args.locality,
            topic=args.topic,
        )
        return await report(db, Actor(name="cli", role=Role.ADMIN), wanted)

    def show(result: Report) -> None:
        if args.csv:
            print(result.as_csv(), end="")
        else:
            print(json.dumps(result.as_json(), ensure_ascii=False, indent=2))

    return on_database(settings, work, show)


def add_commands(sub: Any) -> None:
    """Add `report` to the command line."""
    rep = sub.add_parser("report", help="cases, on-time rates, satisfaction, reach for a period")
    rep.add_argument("--agency", help="agency slug (default: every agency)")
    rep.add_argument("--from", dest="from_day", type=_day, required=True, help="YYYY-MM-DD")
    rep.add_argument("--to", dest="to_day", type=_day, required=True, help="YYYY-MM-DD")
    rep.add_argument("--locality", help="a commune's or a province's code (w:…, p:…)")
    rep.add_argument("--topic", help="topic slug")
    rep.add_argument("--csv", action="store_true", help="CSV (scope, metric, value) not JSON")
    rep.set_defaults(func=_report)
