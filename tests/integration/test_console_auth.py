"""Console log-in over real HTTP on both databases: sessions (cookie flags, log-out, idle and
absolute expiry, ended by a password change or a disabled account), CSRF, the log-in limit,
set-password links and the CLI that makes them."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from http.cookies import SimpleCookie
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr
from yarl import URL

from bot.domain.actors import Actor
from bot.domain.cases import Status
from bot.domain.roles import Role
from bot.gateway import DB
from bot.services.case_queries import get_case
from bot.services.passwords import WRONG, disable_user, issue_password_link
from bot.store.models import utcnow
from bot.web.console.auth_pages import LOGGED_OUT, PASSWORD_CHANGED
from bot.web.console.guard import CSRF_REFUSED
from bot.web.console.session import COOKIE, EXPIRED
from tests.conftest import RunningGateway, Tokens, free_port, gateway_settings, running_gateway
from tests.console import PASSWORD, STAFF, Browser, citizen_case, staff_world

KEY = "hHkM2o5lJ4y0Q3mV9bWcX1sT6uN8aR7eG2dF5jK0pLQ="  # 32 bytes, base64, for these tests only
OFFICER = STAFF["officer"]
ADMIN = Actor("test", Role.ADMIN)


@pytest.fixture
async def console(database_url: str, tokens: Tokens) -> AsyncIterator[RunningGateway]:
    """A gateway (no engine) with staff of every role; a known cookie key and a log-in
    limit of 5 tries per username."""
    settings = gateway_settings(
        database_url,
        tokens,
        f"http://127.0.0.1:{free_port()}",
        retry_interval=3600,
        console_session_key=SecretStr(KEY),
        console_logins_per_user_burst=5,
        console_logins_per_user_per_min=1,
    )
    async with running_gateway(settings, free_port()) as running:
        await staff_world(running.app[DB])
        yield running


@pytest.fixture
async def browsers(console: RunningGateway) -> AsyncIterator[list[Browser]]:
    """Two independent browsers (two devices of staff)."""
    made = [Browser(console.base_url), Browser(console.base_url)]
    yield made
    for browser in made:
        await browser.close()


async def test_staff_log_in_and_out(console: RunningGateway, browsers: list[Browser]) -> None:
    browser = browsers[0]
    page = await browser.get("/console/ho-so")
    assert page.path == "/console/dang-nhap?next=/console/ho-so", page.url
    page = await browser.log_in(OFFICER)
    assert page.status == 200 and page.path == "/console/ho-so", page.url
    assert page.text_of("staff-name") == "Cán Bộ Một"
    assert page.text_of("staff-role") == "Cán bộ"
    cookie = next(c for c in browser.http.cookie_jar if c.key == "giaitrinh_console")
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["path"] == "/console"
    assert not cookie["secure"], "plain http on 127.0.0.1: a Secure cookie would never return"
    page = await browser.post("/console/dang-xuat", {})
    assert page.path == "/console/dang-nhap?da-dang-xuat=1" and LOGGED_OUT in page.html
    page = await browser.get("/console/ho-so")
    assert page.path.startswith("/console/dang-nhap"), "logged out: the log-in page again"


async def test_secure_cookie_when_the_site_is_https(database_url: str, tokens: Tokens) -> None:
    settings = gateway_settings(
        database_url, tokens, "http://127.0.0.1:9", public_url="https://giaitrinh.example"
    )
    async with running_gateway(settings, free_port()) as gw:
        async with gw.http.get(f"{gw.base_url}/console/dang-nhap") as resp:
            set_cookie = resp.headers["Set-Cookie"]
    assert "Secure" in set_cookie and "HttpOnly" in set_cookie, set_cookie
    assert "SameSite=Strict" in set_cookie, set_cookie


async def test_a_wrong_password_an_unknown_user_and_a_disabled_one_read_the_same(
    console: RunningGateway, browsers: list[Browser]
) -> None:
    browser = browsers[0]
    wrong = await browser.log_in(OFFICER, "not-the-password")
    unknown = await browser.log_in("khong-co-ai", PASSWORD)
    await disable_user(console.app[DB], STAFF["operator"])
    disabled = await browser.log_in(STAFF["operator"], PASSWORD)
    for page in (wrong, unknown, disabled):
        assert page.status == 401 and page.text_of("login-error") == WRONG, page.html[:500]
    assert "không-co-ai" not in wrong.html


def _rewrite(browser: Browser, **changes: object) -> None:
    """Change what the encrypted cookie says (only a holder of the key can)."""
    fernet = Fernet(KEY.encode())
    cookie = browser.cookie()
    data = json.loads(fernet.decrypt(cookie.encode()))
    data["session"].update(changes)
    cookies: SimpleCookie = SimpleCookie()
    cookies[COOKIE] = fernet.encrypt(json.dumps(data).encode()).decode()
    cookies[COOKIE]["path"] = "/console"
    browser.http.cookie_jar.update_cookies(cookies, response_url=URL(browser.base_url))


@pytest.mark.parametrize("how", ["idle", "too_old"])
async def test_an_idle_or_too_old_session_ends(browsers: list[Browser], how: str) -> None:
    browser = browsers[0]
    assert (await browser.log_in(OFFICER)).path == "/console/ho-so"
    if how == "idle":  # last used 31 minutes ago (limit 30)
        _rewrite(browser, seen=time.time() - 31 * 60)
    else:  # started 13 hours ago (limit 12), used a moment ago
        _rewrite(browser, started=(utcnow() - timedelta(hours=13)).isoformat())
    page = await browser.get("/console/ho-so")
    assert page.path == "/console/dang-nhap?next=/console/ho-so&het-han=1", page.url
    assert EXPIRED in page.html


async def test_changing_the_password_ends_the_other_sessions(browsers: list[Browser]) -> None:
    here, there = browsers
    await here.log_in(OFFICER)
    await there.log_in(OFFICER)
    await here.get("/console/mat-khau")
    new = "mot-mat-khau-moi-9"
    page = await here.post(
        "/console/mat-khau", {"current": PASSWORD, "password": new, "again": new}
    )
    assert page.path == "/console/mat-khau?xong=1" and PASSWORD_CHANGED in page.html
    assert (await here.get("/console/ho-so")).path == "/console/ho-so", "this session goes on"
    page = await there.get("/console/ho-so")
    assert page.path.startswith("/console/dang-nhap") and EXPIRED in page.html
    assert (await there.log_in(OFFICER, PASSWORD)).status == 401, "the old password is gone"
    assert (await there.log_in(OFFICER, new)).path == "/console/ho-so"


async def test_a_wrong_current_password_changes_nothing(browsers: list[Browser]) -> None:
    browser = browsers[0]
    await browser.log_in(OFFICER)
    await browser.get("/console/mat-khau")
    page = await browser.post(
        "/console/mat-khau", {"current": "sai", "password": "x" * 12, "again": "x" * 12}
    )
    assert page.status == 400 and page.text_of("form-error") == "Mật khẩu hiện tại không đúng."
    await browser.get("/console/mat-khau")
    page = await browser.post(
        "/console/mat-khau", {"current": PASSWORD, "password": "ngan", "again": "ngan"}
    )
    assert page.status == 400 and "ít nhất 10 ký tự" in page.text_of("form-error")


async def test_a_disabled_account_loses_its_session_at_once(
    console: RunningGateway, browsers: list[Browser]
) -> None:
    browser = browsers[0]
    assert (await browser.log_in(OFFICER)).path == "/console/ho-so"
    await disable_user(console.app[DB], OFFICER)
    page = await browser.get("/console/ho-so")
    assert page.path.startswith("/console/dang-nhap") and EXPIRED in page.html


async def test_state_changes_without_the_csrf_token_are_refused(
    console: RunningGateway, browsers: list[Browser]
) -> None:
    browser = browsers[0]
    code = await citizen_case(console)
    await browser.log_in(OFFICER)
    await browser.get(f"/console/ho-so/{code}")
    path = f"/console/ho-so/{code}/chuyen"
    for token in ("", "forged-" + browser.csrf[7:]):
        page = await browser.post(path, {"to": "accepted"}, csrf=token)
        assert page.status == 403 and page.text_of("error-message") == CSRF_REFUSED, token
    page = await browser.post("/console/dang-xuat", {}, csrf="")
    assert page.status == 403, "log-out is a state change too"
    view = await get_case(console.app[DB], code, ADMIN)
    assert view.status is Status.RECEIVED, "nothing changed"
    # htmx sends the token as a header (hx-headers on <body>) instead of a field
    page = await browser.post(
        path, {"to": "accepted"}, csrf="", headers={"X-CSRF-Token": browser.csrf}
    )
    assert page.status == 200 and page.text_of("case-status") == "Đã tiếp nhận", page.html[:800]
    other = Browser(console.base_url)  # a log-in form needs the token of its own session
    try:
        page = await other.post("/console/dang-nhap", {"username": OFFICER, "password": PASSWORD})
        assert page.status == 403
    finally:
        await other.close()


async def test_log_in_attempts_are_limited_per_username(
    console: RunningGateway, browsers: list[Browser]
) -> None:
    browser = browsers[0]
    for _ in range(5):
        assert (await browser.log_in(OFFICER, "doan-sai-mat-khau")).status == 401
    page = await browser.log_in(OFFICER)  # even the right password, until the wait is over
    assert page.status == 429, page.html[:500]
    assert int(page.headers["Retry-After"]) >= 1
    assert "Đăng nhập sai quá nhiều lần. Vui lòng đợi" in page.text_of("error-message")
    page = await browser.log_in(STAFF["admin"])  # another username from the same address
    assert page.status == 200 and page.path == "/console/ho-so"


async def _cli(database_url: str, *args: str, stdin: bytes = b"") -> tuple[int, str]:
    env = {**os.environ, "GIAITRINH_DATABASE_URL": database_url, "GIAITRINH_PORT": "8080"}
    giaitrinh = str(Path(sys.executable).parent / "giaitrinh")
    proc = await asyncio.create_subprocess_exec(
        giaitrinh,
        *args,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate(stdin)
    return proc.returncode or 0, (out + err).decode()


async def test_a_set_password_link_works_once(
    console: RunningGateway, browsers: list[Browser], database_url: str
) -> None:
    code, out = await _cli(
        database_url, "user", "create", "moi", "--role", "officer", "--agency", "ubnd-phuong-demo"
    )
    assert code == 0, out
    code, out = await _cli(database_url, "user", "password-link", "moi")
    assert code == 0, out
    link = out.strip().splitlines()[-1]
    assert link.startswith("http://127.0.0.1:8080/console/dat-mat-khau/"), out
    path = link.removeprefix("http://127.0.0.1:8080")
    browser = browsers[0]
    assert "moi" in (await browser.get(path)).html
    page = await browser.post(path, {"password": "khac-nhau-1", "again": "khac-nhau-2"})
    assert page.status == 400 and "không giống nhau" in page.text_of("form-error")
    page = await browser.post(path, {"password": "mat-khau-moi-12", "again": "mat-khau-moi-12"})
    assert page.path == "/console/dang-nhap?da-dat-mat-khau=1", page.url
    assert (await browser.log_in("moi", "mat-khau-moi-12")).path == "/console/ho-so"
    again = await browsers[1].get(path)
    assert again.status == 404 and "đã dùng hoặc đã hết hạn" in again.text_of("error-message")


async def test_a_set_password_link_expires_after_24_hours(
    console: RunningGateway, browsers: list[Browser]
) -> None:
    token = await issue_password_link(
        console.app[DB], OFFICER, now=utcnow() - timedelta(hours=24, seconds=1)
    )
    page = await browsers[0].get(f"/console/dat-mat-khau/{token}")
    assert page.status == 404 and "hết hạn" in page.text_of("error-message")
    page = await browsers[0].post(
        f"/console/dat-mat-khau/{token}", {"password": "x" * 12, "again": "x" * 12}
    )
    assert page.status == 404, "nor can it be used"
    assert (await browsers[0].log_in(OFFICER)).path == "/console/ho-so", "password unchanged"


async def test_cli_creates_a_user_with_a_password_from_stdin(
    console: RunningGateway, browsers: list[Browser], database_url: str
) -> None:
    code, out = await _cli(
        database_url,
        "user",
        "create",
        "nhanh",
        "--role",
        "admin",
        "--password-stdin",
        stdin=b"mat-khau-tu-stdin\n",
    )
    assert code == 0 and "with a console password" in out, out
    assert "mat-khau-tu-stdin" not in out
    assert (await browsers[0].log_in("nhanh", "mat-khau-tu-stdin")).path == "/console/ho-so"
    code, out = await _cli(
        database_url,
        "user",
        "create",
        "ngan",
        "--role",
        "admin",
        "--password-stdin",
        stdin=b"ngan\n",
    )
    assert code == 2 and "password_too_short" in out, out
