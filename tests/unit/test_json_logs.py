"""GIAITRINH_LOG_JSON: every line (ours and the libraries') is one JSON object, and the last
guard hides phone and ID numbers, e-mail addresses and the process's secrets (bot/logging.py)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from bot.logging import HIDDEN, Scrub, configure_logging
from bot.settings import Settings

TOKEN = "123456:AAE-secret-part-of-a-bot-token"
PHONE = "0912 345 678"
EMAIL = "lan.nguyen@example.vn"


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """configure_logging as the CLI does in production, into a buffer; undone after."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    out = io.StringIO()
    configure_logging("INFO", as_json=True, secrets=[TOKEN, "short"], stream=out)
    try:
        yield out
    finally:
        structlog.reset_defaults()
        root.handlers, root.level = handlers, level


def parsed(out: io.StringIO) -> list[dict[str, Any]]:
    """Each line as JSON (fails on a line that is not one object)."""
    lines = [line for line in out.getvalue().splitlines() if line]
    return [json.loads(line) for line in lines]


def test_every_line_is_one_json_object_without_personal_data_or_secrets(
    json_lines: io.StringIO,
) -> None:
    log = structlog.get_logger("test")
    log.warning(
        "reply_not_delivered",
        channel="telegram",
        reason=f"call {PHONE} or write to {EMAIL}",
        url=f"https://api.telegram.org/bot{TOKEN}/sendMessage",
        attempts=2,
        nested={"ids": ["001203004567"], "ok": True},
    )
    try:
        raise RuntimeError(f"refused for bot{TOKEN}, citizen {PHONE}")
    except RuntimeError:
        log.exception("send_failed")
    logging.getLogger("aiohttp.server").error("Error handling request from %s", "0912345678")
    text = json_lines.getvalue()
    lines = parsed(json_lines)
    assert [line["event"] for line in lines][:2] == ["reply_not_delivered", "send_failed"], text
    library = lines[2]
    assert library["logger"] == "aiohttp.server" and library["level"] == "error", library
    assert lines[0]["attempts"] == 2 and lines[0]["nested"]["ok"] is True, lines[0]
    assert "RuntimeError" in lines[1]["exception"], lines[1]
    assert HIDDEN in lines[0]["url"] and HIDDEN in lines[1]["exception"], text
    for leak in ("secret-part", "345 678", "345678", EMAIL, "001203004567"):
        assert leak not in text, f"{leak!r} in:\n{text}"


def test_short_setting_values_are_not_taken_for_secrets() -> None:
    scrub = Scrub(["short", "a-real-secret-value"])
    assert scrub.text("a short line with a-real-secret-value") == f"a short line with {HIDDEN}"


def test_settings_give_every_secret_that_is_set() -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, telegram_token=TOKEN, metrics_token="metrics-token-value"
    )
    found = settings.secret_values()
    assert {TOKEN, "metrics-token-value"} <= set(found) and "" not in found, found


def test_each_open311_api_key_is_a_secret_of_its_own() -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, open311_api_keys="first-client-key, second-client-key"
    )
    found = settings.secret_values()
    assert {"first-client-key", "second-client-key"} <= set(found), found
