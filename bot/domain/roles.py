"""Who works in the agency side of the product."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """A user's role: an admin runs the deployment, an officer works their agency's cases,
    an operator answers conversations handed over by the bot."""

    ADMIN = "admin"
    OFFICER = "officer"
    OPERATOR = "operator"
