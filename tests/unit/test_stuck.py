"""A shutdown that never ends fails its test with where it waits, instead of hanging CI."""

from __future__ import annotations

import asyncio

import pytest

from tests import stuck


async def _waits_forever(event: asyncio.Event) -> None:
    await event.wait()


async def test_a_stuck_shutdown_fails_and_names_where_it_waits(
    capsys: pytest.CaptureFixture[str],
) -> None:
    event = asyncio.Event()
    with pytest.raises(pytest.fail.Exception, match="did not finish in 0 s"):
        await stuck.bounded(_waits_forever(event), "the test's shutdown", seconds=0.05)
    assert "_waits_forever" in capsys.readouterr().err
    event.set()  # let the abandoned task end


async def test_a_shutdown_that_ends_in_time_passes_its_result_through() -> None:
    await stuck.bounded(asyncio.sleep(0), "a quick shutdown")

    async def broken() -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await stuck.bounded(broken(), "a failing shutdown")
