"""structlog set-up: an event name plus fields; personal data never goes in a field.

With `log_json` every line, ours and the libraries', is one JSON object (`event`, `level`,
`timestamp`, the fields; `logger` for a library's line). What must never reach a log is kept
out where it is logged (no citizen's text or contact id in a field, database errors without
their parameters, libraries that log tokens or texts quietened); as a last guard every line
is scrubbed: phone and ID numbers and e-mail addresses are hidden, and the process's secrets
(the settings' secret values) replaced, in every field and in exception texts.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, MutableMapping
from typing import Any, TextIO

import structlog

from bot.domain.redaction import redact, redact_email

# Libraries whose INFO and DEBUG lines carry secrets or personal data, or are chatter: httpx
# logs every request URL, and the Bot API's URLs hold the bot token (/bot<token>/getUpdates);
# python-telegram-bot logs the token, the calls' parameters and the updates (citizens' texts)
# at DEBUG; aiosqlite logs each statement with its parameters at DEBUG; rasa_sdk logs slot
# values (a phone number in a form) at DEBUG; Alembic's plugin list and per-request access
# lines are chatter.
QUIET = ("httpx", "httpcore", "telegram", "aiosqlite", "rasa_sdk", "alembic", "aiohttp.access")

HIDDEN = "<secret>"  # what a secret is replaced with
EMAIL = "[email]"
# Shorter values are not looked for: replacing "abc" everywhere would garble lines, and a
# secret that short is not one.
MIN_SECRET = 8
MAX_DEPTH = 4  # nested fields scrubbed this deep; deeper containers are shown as their type


def quiet_libraries() -> None:
    """Only warnings and errors from the libraries in QUIET, whatever the root level (the
    CLI's set-up and the app factory both call this, so tests get it too)."""
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)


class Scrub:
    """A processor that hides phone numbers, ID numbers, e-mail addresses and the given
    secrets in every string of a log line (run after exceptions are rendered as text)."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Longest first: a secret that contains another is replaced whole.
        self._secrets = sorted({s for s in secrets if len(s) >= MIN_SECRET}, key=len, reverse=True)

    def text(self, value: str) -> str:
        """One string, scrubbed."""
        for secret in self._secrets:
            value = value.replace(secret, HIDDEN)
        return redact(redact_email(value, EMAIL))

    def value(self, value: Any, depth: int = 0) -> Any:
        """A field's value, scrubbed (strings inside lists and dicts too)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, bool | int | float) or value is None:
            return value
        if depth >= MAX_DEPTH:
            return type(value).__name__
        if isinstance(value, dict):
            return {str(k): self.value(v, depth + 1) for k, v in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [self.value(v, depth + 1) for v in value]
        return self.text(str(value))  # what a renderer would show of it

    def __call__(self, _logger: Any, _name: str, event: MutableMapping[str, Any]) -> dict[str, Any]:
        return {key: self.value(value) for key, value in event.items()}


def _renderer(as_json: bool) -> structlog.typing.Processor:
    if as_json:
        return structlog.processors.JSONRenderer(ensure_ascii=False)
    return structlog.dev.ConsoleRenderer(colors=False)


def processors(as_json: bool, secrets: Iterable[str] = ()) -> list[structlog.typing.Processor]:
    """The processor chain of every log line (tests capture with the same chain)."""
    return [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        Scrub(secrets),
        _renderer(as_json),
    ]


def library_formatter(as_json: bool, secrets: Iterable[str] = ()) -> logging.Formatter:
    """How the libraries' (stdlib) lines are written: as ours, one JSON object each, with
    the library's name in `logger`; or just the message, on a console."""
    if not as_json:
        return logging.Formatter("%(message)s")
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            structlog.stdlib.add_logger_name,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
        ],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            Scrub(secrets),
            _renderer(True),
        ],
    )


def configure_logging(
    level: str = "INFO",
    as_json: bool = False,
    secrets: Iterable[str] = (),
    stream: TextIO | None = None,
) -> None:
    """Route structlog and stdlib logging to `stream` (stderr), as JSON in production;
    `secrets` are replaced wherever they would appear."""
    out = stream or sys.stderr
    secrets = list(secrets)
    handler = logging.StreamHandler(out)
    handler.setFormatter(library_formatter(as_json, secrets))
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
    quiet_libraries()
    structlog.configure(
        processors=processors(as_json, secrets),
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(out),
        cache_logger_on_first_use=True,
    )
