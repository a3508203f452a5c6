"""Error types of the domain, mapped to HTTP in one place (bot/web/errors.py)."""

from __future__ import annotations


class GiaitrinhError(Exception):
    """Base error: a stable machine code plus a message a person can read (Vietnamese)."""

    code = "error"
    http_status = 400

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class InvalidInput(GiaitrinhError):
    """The request is malformed or a value is out of range."""

    code = "invalid_input"
    http_status = 400


class Unauthorized(GiaitrinhError):
    """Credentials are missing or wrong."""

    code = "unauthorized"
    http_status = 401


class Forbidden(GiaitrinhError):
    """Authenticated but not allowed (or a webhook whose signature does not match)."""

    code = "forbidden"
    http_status = 403


class NotFound(GiaitrinhError):
    """The thing does not exist, or the caller may not know that it exists."""

    code = "not_found"
    http_status = 404


class EngineUnavailable(GiaitrinhError):
    """The Rasa engine did not answer in time; the message stays queued."""

    code = "engine_unavailable"
    http_status = 503


class EngineRefused(GiaitrinhError):
    """The engine answered this message with an error (an HTTP error, a body that is not
    its reply list): counted against the message's attempts, then set aside as failed."""

    code = "engine_refused"
    http_status = 502


class Conflict(GiaitrinhError):
    """Another request changed the same thing at the same moment; trying again is safe."""

    code = "conflict"
    http_status = 409


class InvalidTransition(GiaitrinhError):
    """A case status change the rules do not allow."""

    code = "invalid_transition"
    http_status = 409


class RateLimited(GiaitrinhError):
    """Too many requests from one client or session; `retry_after` seconds until the next."""

    code = "rate_limited"
    http_status = 429

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
