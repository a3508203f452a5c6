"""Who a message speaks for: the contact comes from the gateway's own records (the
conversation's random engine sender), never from what a caller puts in the request."""

from __future__ import annotations

import uuid
from typing import Any

import aiohttp
from sqlalchemy import select

from bot.domain.cases import STATUS_LABELS, Status
from bot.enginectl import EngineProcess
from bot.gateway import DB
from bot.store.models import Case, CaseEvent
from tests.chat import buttons, file_explanation_request, said
from tests.conftest import RunningGateway


async def forge(engine: EngineProcess, sender: str, text: str, contact_id: int) -> str:
    """What a local process posting straight to the engine's REST port reads back."""
    body = {"sender": sender, "message": text, "metadata": {"contact_id": contact_id}}
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{engine.url}/webhooks/rest/webhook", json=body) as resp,
    ):
        assert resp.status == 200, await resp.text()
        replies: list[dict[str, Any]] = await resp.json()
    return "\n".join(str(r.get("text") or "") for r in replies)


async def test_posting_to_the_engine_port_as_a_citizen_reveals_nothing(
    gateway: RunningGateway, engine: EngineProcess
) -> None:
    citizen = await gateway.chat()
    code = await file_explanation_request(citizen)
    async with gateway.app[DB].session() as session:
        case = (await session.execute(select(Case))).scalar_one()
    assert case.contact_id is not None
    mine = said(await citizen.say("hồ sơ của tôi đến đâu rồi"))
    received = STATUS_LABELS[Status.RECEIVED]
    assert code in mine and received in mine, "the citizen sees their own case"

    sender = uuid.uuid4().hex
    listed = await forge(engine, sender, "hồ sơ của tôi đến đâu rồi", case.contact_id)
    assert code not in listed and received not in listed, listed
    by_code = await forge(engine, sender, f"kiểm tra {code}", case.contact_id)
    assert "Không tìm thấy hồ sơ" in by_code and received not in by_code, by_code
    withdraw = f'/check_status{{"case_code":"{code}","case_action":"withdraw_confirmed"}}'
    answer = await forge(engine, sender, withdraw, case.contact_id)
    assert "Đã rút" not in answer, answer

    async with gateway.app[DB].session() as session:
        status = await session.scalar(select(Case.status).where(Case.id == case.id))
        events = (await session.execute(select(CaseEvent.to_status))).scalars().all()
    assert status == "received" and list(events) == ["received"], (status, events)


async def test_a_button_reference_of_another_conversation_is_an_expired_button(
    gateway: RunningGateway,
) -> None:
    owner = await gateway.chat()
    code = await file_explanation_request(owner)
    data = await owner.say(f"kiểm tra {code}")
    assert "Rút yêu cầu" in buttons(data)
    with_buttons = next(r for r in data["replies"] if r["buttons"])
    reference = f"#b{with_buttons['id']}.0"  # what Telegram sends back for a long payload

    stranger = await gateway.chat()
    probed = await stranger.say("", payload=reference)
    seen = "\n".join(m["text"] for m in await stranger.history())
    assert code not in seen and code not in said(probed), seen
    await stranger.say("", payload="#b" + "9" * 30 + ".0")  # beyond any id: no 500 either

    pressed = await owner.say("", payload=reference)
    assert "chắc chắn muốn rút" in said(pressed), "the owner's own button still works"
