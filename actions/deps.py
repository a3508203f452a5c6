"""What actions need from the gateway, handed over once at start-up.

rasa_sdk instantiates action classes itself, so the database cannot be passed to a
constructor; the app factory calls `configure` before the first action runs.
"""

from __future__ import annotations

from bot.store.db import Database

_db: Database | None = None


def configure(db: Database) -> None:
    """Give actions the gateway's database."""
    global _db
    _db = db


def database() -> Database:
    """The gateway's database; fails loudly if the app did not configure it."""
    if _db is None:
        raise RuntimeError("actions.deps.configure() was not called")
    return _db
