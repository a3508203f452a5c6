"""structlog set-up: an event name plus fields; personal data never goes in a field."""

from __future__ import annotations

import logging
import sys

import structlog

# Libraries whose INFO and DEBUG lines carry secrets or personal data, or are chatter: httpx
# logs every request URL, and the Bot API's URLs hold the bot token (/bot<token>/getUpdates);
# python-telegram-bot logs the token, the calls' parameters and the updates (citizens' texts)
# at DEBUG; aiosqlite logs each statement with its parameters at DEBUG; rasa_sdk logs slot
# values (a phone number in a form) at DEBUG; Alembic's plugin list and per-request access
# lines are chatter.
QUIET = ("httpx", "httpcore", "telegram", "aiosqlite", "rasa_sdk", "alembic", "aiohttp.access")


def quiet_libraries() -> None:
    """Only warnings and errors from the libraries in QUIET, whatever the root level (the
    CLI's set-up and the app factory both call this, so tests get it too)."""
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)


def processors(as_json: bool) -> list[structlog.typing.Processor]:
    """The processor chain of every log line (tests capture with the same chain)."""
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer()
        if as_json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    return [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        renderer,
    ]


def configure_logging(level: str = "INFO", as_json: bool = False) -> None:
    """Route structlog and stdlib logging to stderr, as JSON in production."""
    logging.basicConfig(stream=sys.stderr, level=level.upper(), format="%(message)s")
    quiet_libraries()
    structlog.configure(
        processors=processors(as_json),
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )
