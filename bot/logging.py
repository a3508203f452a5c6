"""structlog set-up: an event name plus fields; personal data never goes in a field."""

from __future__ import annotations

import logging
import sys

import structlog


def configure_logging(level: str = "INFO", as_json: bool = False) -> None:
    """Route structlog and stdlib logging to stderr, as JSON in production."""
    logging.basicConfig(stream=sys.stderr, level=level.upper(), format="%(message)s")
    # Library chatter (Alembic's plugin list, per-request access lines) stays out of INFO.
    for noisy in ("alembic", "aiohttp.access", "rasa_sdk"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer()
        if as_json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )
