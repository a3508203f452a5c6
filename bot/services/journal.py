"""The dispatcher's send journal: what left this process, written before and after each send.

A worker killed with SIGKILL mid-wave leaves rows 'sending' in the database, and the
database cannot say which of them reached the platform. The journal can, for a process
crash: each line is one write(2) to a file opened with O_APPEND, which the kernel keeps
even when the process dies the next instant (not across a power cut: the database's lease
rules still apply then).

    S <delivery id>            about to send
    D <delivery id> <verdict>  the platform answered: ok | safe (certainly not delivered) |
                               doubt (timeout or dropped connection: it may have arrived)

A row with no S line never left the process and can be sent again; a row with D ok was
delivered; only S without D (or D doubt) is truly in doubt.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from bot.domain.delivery import SendVerdict

_SAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]")
_ANSWERS = {SendVerdict.OK.value, SendVerdict.SAFE.value, SendVerdict.DOUBT.value}


def journal_path(directory: Path, worker: str) -> Path:
    """The file of one worker (its id made safe for a file name)."""
    return directory / f"{_SAFE_NAME.sub('_', worker)}.journal"


@dataclass
class JournalState:
    """What a journal file says about the rows its worker was sending."""

    started: set[int] = field(default_factory=set)
    verdicts: dict[int, SendVerdict] = field(default_factory=dict)

    def verdict(self, delivery_id: int) -> SendVerdict:
        """Never left, confirmed, certainly not delivered, or in doubt (started, no answer)."""
        if delivery_id not in self.started:
            return SendVerdict.UNSENT
        return self.verdicts.get(delivery_id, SendVerdict.DOUBT)


class Journal:
    """Append-only lines for this worker; emptied whenever nothing is in flight."""

    def __init__(self, directory: Path, worker: str) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = journal_path(directory, worker)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)

    def started(self, delivery_id: int) -> None:
        """Written just before the request goes out."""
        os.write(self._fd, b"S %d\n" % delivery_id)

    def finished(self, delivery_id: int, verdict: SendVerdict) -> None:
        """Written as soon as the platform answered (before the database is updated)."""
        os.write(self._fd, b"D %d %s\n" % (delivery_id, verdict.encode()))

    def reset(self) -> None:
        """Nothing is in flight and every outcome is in the database: start afresh."""
        if not self.path.exists():  # swept while idle: open a new file under the same name
            os.close(self._fd)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.ftruncate(self._fd, 0)

    def close(self) -> None:
        """Close and remove the file (a clean stop leaves nothing to recover)."""
        os.close(self._fd)
        self.path.unlink(missing_ok=True)

    @staticmethod
    def read(directory: Path, worker: str) -> JournalState | None:
        """The state a (dead) worker left, or None when it left no journal."""
        path = journal_path(directory, worker)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        state = JournalState()
        for line in data.splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[1].isdigit():
                if parts[0] == b"S":
                    state.started.add(int(parts[1]))
                elif parts[0] == b"D" and len(parts) == 3:
                    # A verdict this code does not know is treated as doubt.
                    word = parts[2].decode(errors="replace")
                    state.verdicts[int(parts[1])] = (
                        SendVerdict(word) if word in _ANSWERS else SendVerdict.DOUBT
                    )
        return state

    @staticmethod
    def remove(directory: Path, worker: str) -> None:
        """Forget a dead worker's journal once its rows are settled."""
        journal_path(directory, worker).unlink(missing_ok=True)

    @staticmethod
    def sweep(directory: Path, older_than: float = 86_400.0) -> None:
        """Delete journals nobody touched for a day (their rows were settled elsewhere)."""
        if not directory.is_dir():
            return
        cutoff = time.time() - older_than
        for path in directory.glob("*.journal"):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
            except FileNotFoundError:
                continue
