"""When a test's gateway does not stop, say where everything waits instead of hanging CI.

`bounded` awaits a shutdown for a limited time; past it, every task's chain of awaits and
every suspended coroutine and async generator (fixtures are async generators) is written to
stderr, and the test fails with that report.
"""

from __future__ import annotations

import asyncio
import gc
import sys
import types
from collections.abc import Awaitable
from typing import Any

import pytest

_FRAMES = ("cr_frame", "gi_frame", "ag_frame")
_AWAITS = ("cr_await", "gi_yieldfrom", "ag_await")


def _first(obj: Any, names: tuple[str, ...]) -> Any:
    return next((v for name in names if (v := getattr(obj, name, None)) is not None), None)


def _place(frame: Any) -> str:
    return f"{frame.f_code.co_filename}:{frame.f_lineno} {frame.f_code.co_name}"


def await_chain(awaited: Any, limit: int = 40) -> list[str]:
    """Where a coroutine (a task's, a fixture's) waits: its chain of awaits, outermost first."""
    lines: list[str] = []
    while awaited is not None and len(lines) < limit:
        frame = _first(awaited, _FRAMES)
        if frame is None:
            lines.append(f"awaiting {type(awaited).__name__}")
            break
        lines.append(_place(frame))
        awaited = _first(awaited, _AWAITS)
    return lines


def report() -> str:
    """Where every task and every suspended coroutine or async generator waits now."""
    lines = ["tasks:"]
    for task in asyncio.all_tasks():
        lines.append(f"  {task.get_name()}")
        lines.extend(f"      {line}" for line in await_chain(task.get_coro()))
    lines.append("suspended coroutines and async generators:")
    for obj in gc.get_objects():
        if isinstance(obj, types.CoroutineType | types.AsyncGeneratorType):
            frame = _first(obj, _FRAMES)
            if frame is not None:
                waiting = type(_first(obj, _AWAITS)).__name__
                lines.append(f"  {_place(frame)} awaiting {waiting}")
    return "\n".join(lines)


async def bounded(work: Awaitable[Any], what: str, seconds: float = 90.0) -> None:
    """Await `work`; if it has not finished after `seconds`, report and fail the test."""
    task = asyncio.ensure_future(work)
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if not done:
        text = report()
        sys.stderr.write(f"{what} did not finish in {seconds:.0f} s\n{text}\n")
        pytest.fail(f"{what} did not finish in {seconds:.0f} s (where it waits: stderr)")
    task.result()
