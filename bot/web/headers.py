"""Security headers on every response: no MIME sniffing, no framing, no referrer, and a
strict Content-Security-Policy (the chat page loads its script and style from files, so
nothing inline is needed).

Set when a response is prepared (`on_response_prepare`) rather than in a middleware, so
streamed responses, static files and errors rendered anywhere get them too; a handler that
sets one of these headers itself keeps its own value.
"""

from __future__ import annotations

from aiohttp import web

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
    ]
)

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
}


async def _add_security_headers(_request: web.Request, response: web.StreamResponse) -> None:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)


def setup(app: web.Application) -> None:
    """Give every response of `app` the security headers."""
    app.on_response_prepare.append(_add_security_headers)
