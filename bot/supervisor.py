"""Runs a set of processes as one service (`giaitrinh cluster`, the fault benchmarks).

Programs start in order, each once the one before accepts connections on its port; their
output is printed line by line behind their name; a program that exits is started again
after a pause that grows while it keeps failing; a stop ends them in reverse order (their
own stop signal, then SIGKILL after a grace period). Each program runs in its own process
group, so a stop reaches its children (an engine's workers, runuser's postgres).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TextIO

FIRST_PAUSE = 0.5  # seconds before a program that exited is started again (doubling to MAX)
MAX_PAUSE = 30.0


@dataclass
class Program:
    """One long-running process of the service."""

    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    port: int | None = None  # ready once 127.0.0.1:port accepts connections
    ready_timeout: float = 240.0
    stop_signal: signal.Signals = signal.SIGTERM
    cwd: str | None = None
    # Run once, the first time it is ready, before the next program starts (migrations...).
    after: Callable[[], Awaitable[None]] | None = None


def accepts(port: int) -> bool:
    """Whether something accepts connections on 127.0.0.1:port now."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


class Supervisor:
    """Starts, watches, restarts and stops programs."""

    def __init__(self, programs: list[Program], out: TextIO | None = None) -> None:
        self.programs = {p.name: p for p in programs}
        self._out = out or sys.stdout
        self._procs: dict[str, asyncio.subprocess.Process] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        self.restarts: dict[str, int] = {p.name: 0 for p in programs}
        self._width = max((len(p.name) for p in programs), default=8)
        self.on_exit: Callable[[str, int], None] | None = None  # told of every exit

    def say(self, name: str, line: str) -> None:
        """One line of output, behind the program's name."""
        self._out.write(f"{name:<{self._width}} | {line}\n")
        self._out.flush()

    def pid(self, name: str) -> int:
        """The running process of a program."""
        return self._procs[name].pid

    async def start(self) -> None:
        """Start every program in order, each when the one before is ready."""
        for program in self.programs.values():
            await self._spawn(program)
            self._tasks.append(asyncio.create_task(self._watch(program)))
            await self.ready(program.name)
            if program.after is not None:
                await program.after()

    async def ready(self, name: str) -> None:
        """Until the program accepts connections on its port (if it has one)."""
        program = self.programs[name]
        if program.port is None:
            return
        deadline = time.monotonic() + program.ready_timeout
        while not await asyncio.to_thread(accepts, program.port):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{name} is not listening on {program.port}")
            await asyncio.sleep(0.2)

    async def _spawn(self, program: Program) -> None:
        proc = await asyncio.create_subprocess_exec(
            *program.argv,
            env={**os.environ, **program.env},
            cwd=program.cwd,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
        self._procs[program.name] = proc
        self.say(program.name, f"started (pid {proc.pid})")
        self._tasks.append(asyncio.create_task(self._copy(program.name, proc)))

    async def _copy(self, name: str, proc: asyncio.subprocess.Process) -> None:
        assert proc.stdout is not None
        async for raw in proc.stdout:
            self.say(name, raw.decode("utf-8", "replace").rstrip())

    async def _watch(self, program: Program) -> None:
        """Start the program again whenever it exits, until the service stops."""
        pause = FIRST_PAUSE
        while True:
            proc = self._procs[program.name]
            began = time.monotonic()
            code = await proc.wait()
            if self._stopping:
                return
            if self.on_exit is not None:
                self.on_exit(program.name, code)
            if time.monotonic() - began > MAX_PAUSE:  # it ran a while: not failing in a loop
                pause = FIRST_PAUSE
            self.say(program.name, f"exited with {code}; starting again in {pause:.1f} s")
            await asyncio.sleep(pause)
            if self._stopping:
                return
            pause = min(pause * 2, MAX_PAUSE)
            self.restarts[program.name] += 1
            await self._spawn(program)

    def kill(self, name: str, sig: signal.Signals = signal.SIGKILL) -> None:
        """Signal a program's process group (a fault run; the watcher starts it again)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._procs[name].pid, sig)

    async def stop(self, grace: float = 20.0) -> None:
        """Stop every program, the last started first."""
        self._stopping = True
        for name in reversed(list(self.programs)):
            proc = self._procs.get(name)
            if proc is None or proc.returncode is not None:
                continue
            self.kill(name, self.programs[name].stop_signal)
            try:
                await asyncio.wait_for(proc.wait(), grace)
            except TimeoutError:
                self.kill(name, signal.SIGKILL)
                await proc.wait()
            self.say(name, "stopped")
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
