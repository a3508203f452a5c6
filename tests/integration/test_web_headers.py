"""Every response of the gateway carries the security headers; pages a strict CSP."""

from __future__ import annotations

from html.parser import HTMLParser

from tests.conftest import RunningGateway

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


async def test_every_kind_of_response_carries_the_security_headers(
    offline_gateway: RunningGateway,
) -> None:
    base, http = offline_gateway.base_url, offline_gateway.http
    requests = [
        ("GET", "/", 200),
        ("GET", "/static/chat.js", 200),
        ("GET", "/static/chat.css", 200),
        ("POST", "/api/web/session", 200),
        ("GET", "/api/web/messages?session_id=" + "x" * 32, 404),
        ("GET", "/healthz", 200),
        ("GET", "/no-such-page", 404),
        ("GET", "/static/../bot/settings.py", 404),
        ("POST", "/healthz", 405),
    ]
    for method, path, status in requests:
        async with http.request(method, base + path, json={} if method == "POST" else None) as r:
            assert r.status == status, (method, path, r.status)
            headers = {name: r.headers.get(name) for name in SECURITY_HEADERS}
            assert headers == SECURITY_HEADERS, (method, path, headers)


class InlineCode(HTMLParser):
    """Collects what a strict CSP would block: inline scripts, styles and handlers."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        if tag == "style" or (tag == "script" and "src" not in names):
            self.found.append(f"<{tag}>")
        self.found += [f"{tag}[{n}]" for n in names if n == "style" or n.startswith("on")]


async def test_the_chat_page_has_no_inline_script_style_or_handler(
    offline_gateway: RunningGateway,
) -> None:
    async with offline_gateway.http.get(offline_gateway.base_url + "/") as resp:
        assert resp.headers["Content-Type"].startswith("text/html")
        parser = InlineCode()
        parser.feed(await resp.text())
    assert parser.found == []


SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": CSP,
}
