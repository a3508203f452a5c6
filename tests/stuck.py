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


def _chain(awaited: Any) -> list[str]:
    lines: list[str] = []
    while awaited is not None and len(lines) < 40:
        frame = next(
            (
                getattr(awaited, a)
                for a in ("cr_frame", "gi_frame", "ag_frame")
                if hasattr(awaited, a)
            ),
            None,
        )
        if frame is None:
            lines.append(f"      awaiting {type(awaited).__name__}")
            break
        lines.append(f"      {frame.f_code.co_filename}:{frame.f_lineno} {frame.f_code.co_name}")
        awaited = next(
            (
                getattr(awaited, a)
                for a in ("cr_await", "gi_yieldfrom", "ag_await")
                if getattr(awaited, a, None) is not None
            ),
            None,
        )
    return lines


def report() -> str:
    """Where every task and every suspended coroutine or async generator waits now."""
    lines = ["tasks:"]
    for task in asyncio.all_tasks():
        lines.append(f"  {task.get_name()}")
        lines.extend(_chain(task.get_coro()))
    lines.append("suspended coroutines and async generators:")
    for obj in gc.get_objects():
        frame = None
        if isinstance(obj, types.CoroutineType):
            frame, awaiting = obj.cr_frame, obj.cr_await
        elif isinstance(obj, types.AsyncGeneratorType):
            frame, awaiting = obj.ag_frame, obj.ag_await
        if frame is not None:
            lines.append(
                f"  {frame.f_code.co_filename}:{frame.f_lineno} {frame.f_code.co_name}"
                f" awaiting {type(awaiting).__name__}"
            )
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
