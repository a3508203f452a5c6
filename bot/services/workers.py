"""Dispatcher workers' identities and liveness.

A worker's id is "host:pid:nonce" and each of its claims "<worker>/<wave>", so a worker on
the same host can tell a dead predecessor's rows (process gone: settle them now, from its
journal) from a live neighbour's (leave them alone until their lease ends).
"""

from __future__ import annotations

import os
import secrets
import socket


def new_worker_id() -> str:
    """host:pid:nonce, so a worker on the same host can tell whether the claimer is alive."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"


def host_of(worker: str) -> str:
    """The host part of a worker id."""
    return worker.rsplit(":", 2)[0]


def worker_of(claimed_by: str | None) -> str | None:
    """The worker part of a claim ("<worker>/<wave>")."""
    return claimed_by.split("/", 1)[0] if claimed_by else None


def claimer_is_dead(claimed_by: str | None, host: str) -> bool:
    """True only when the claim is from this host and its process no longer exists."""
    if not claimed_by:
        return False
    parts = claimed_by.rsplit(":", 2)
    if len(parts) != 3 or parts[0] != host or not parts[1].isdigit():
        return False
    pid = int(parts[1])
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
