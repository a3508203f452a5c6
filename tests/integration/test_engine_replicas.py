"""The gateway's engine client with several replicas: turns spread over them, a replica that
refuses connections is skipped at once (the message never reached it) and tried last until a
probe finds it ready, and one that drops a turn it received is not sent that message again."""

from __future__ import annotations

import aiohttp
import pytest
from aiohttp import web

from bot.engine import EngineClient
from bot.errors import EngineUnavailable
from tests.conftest import free_port, serve
from tests.fakes.engine_api import FakeEngine


async def test_turns_spread_over_replicas_and_skip_one_that_is_down() -> None:
    one, two = FakeEngine(fail_on=""), FakeEngine(fail_on="")
    down = f"http://127.0.0.1:{free_port()}"
    async with serve(one.app()) as a, serve(two.app()) as b, aiohttp.ClientSession() as http:
        client = EngineClient(http, f"{down},{a},{b}", "token", 5)
        for i in range(12):
            turn = await client.send(f"s{i}", f"tin {i}", {"message_id": i})
            assert turn.replies[0].text == f"Đã nhận: tin {i}", "never lost on the way"
        first, *others = client.replicas
        assert not first.ready and first.last_error == "ClientConnectorError"
        shares = [r.turns for r in others]
        assert first.turns == 0 and sum(shares) == 12, client.replicas
        assert abs(shares[0] - shares[1]) <= 1, f"in turns: {shares}"
        assert [len(one.received), len(two.received)] == shares

        # Back up (a restarted engine): the probe says so, and it takes turns again.
        fake = FakeEngine(fail_on="")
        port = int(down.rsplit(":", 1)[1])
        runner = web.AppRunner(fake.app())
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            assert await client.is_ready()
            assert first.ready and first.last_error is None
            for i in range(6):
                await client.send(f"t{i}", "lại", {"message_id": 100 + i})
            assert len(fake.received) == 2, "its share of the turns again"
        finally:
            await runner.cleanup()


async def test_a_replica_that_drops_a_turn_it_received_is_not_sent_it_elsewhere() -> None:
    """It may have handled the message: the message waits (EngineUnavailable) instead."""
    received: list[str] = []

    async def hang_up(request: web.Request) -> web.StreamResponse:
        received.append((await request.json())["message"])
        assert request.transport is not None
        request.transport.close()  # the process died in the middle of the turn
        return web.Response()

    dropping = web.Application()
    dropping.router.add_post("/webhooks/rest/webhook", hang_up)
    other = FakeEngine(fail_on="")
    async with (
        serve(dropping) as a,
        serve(other.app()) as b,
        aiohttp.ClientSession() as http,
    ):
        client = EngineClient(http, f"{a},{b}", "token", 5)
        client._turn = -1  # noqa: SLF001  (the next turn goes to `a`)
        with pytest.raises(EngineUnavailable):
            await client.send("s", "xin chào", {"message_id": 1})
    assert received == ["xin chào"] and other.received == [], "sent once, to one replica"
