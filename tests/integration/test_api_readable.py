"""What officers read from the API (issue 13's first slice): Vietnamese as letters, not
\\u escapes; places found by name; a petition's location and a rating's comment shown."""

from __future__ import annotations

import pytest

from bot.domain.cases import Kind
from bot.services.cases import CaseDraft, file_case
from bot.services.ratings import rate_case
from tests.conftest import RunningGateway
from tests.integration.test_case_api import _setup, call


async def test_json_answers_carry_vietnamese_letters_not_escapes(
    offline_gateway: RunningGateway,
) -> None:
    gw = offline_gateway
    _, token, _ = await _setup(gw)
    async with gw.http.get(
        f"{gw.base_url}/api/v1/localities",
        params={"q": "hoàn kiếm"},
        headers={"Authorization": f"Bearer {token}"},
    ) as resp:
        raw = await resp.read()
        assert resp.status == 200 and resp.charset == "utf-8"
    assert "Phường Hoàn Kiếm".encode() in raw and b"\\u" not in raw
    async with gw.http.get(f"{gw.base_url}/api/v1/cases") as resp:  # an error, too
        raw = await resp.read()
    assert resp.status == 401 and b"\\u" not in raw


async def test_places_are_found_by_name_with_their_province(
    offline_gateway: RunningGateway,
) -> None:
    gw = offline_gateway
    _, token, _ = await _setup(gw)
    status, body = await call(gw, token, "GET", "/localities?q=tân an")
    assert status == 200
    found = body["localities"]
    assert len(found) >= 7 and all(p["name"].endswith("Tân An") for p in found[:7])
    assert len({p["province"] for p in found[:7]}) == 7, "each with its own province"
    assert found[0]["code"].startswith("w:") and found[0]["level"] == 2
    status, body = await call(gw, token, "GET", "/localities?q=xa tan an, nghe an")
    assert [p["label"] for p in body["localities"]] == ["Xã Tân An, Tỉnh Nghệ An"]
    status, body = await call(gw, token, "GET", "/localities?q=ha noi")
    assert body["localities"][0] == {
        "code": "p:1",
        "name": "Thành phố Hà Nội",
        "level": 1,
        "province": "Thành phố Hà Nội",
        "label": "Thành phố Hà Nội",
    }
    status, body = await call(gw, token, "GET", "/localities?q=hoan k&limit=3")
    assert status == 200 and body["localities"][0]["name"] == "Phường Hoàn Kiếm"


@pytest.mark.parametrize("query", ["", "x" * 101, "ha noi&limit=abc"])
async def test_a_bad_place_search_is_a_clear_error(
    offline_gateway: RunningGateway, query: str
) -> None:
    _, token, _ = await _setup(offline_gateway)
    status, body = await call(offline_gateway, token, "GET", f"/localities?q={query}")
    assert status == 400 and body["error"]["code"] == "invalid_filter", body


async def test_a_case_shows_the_petition_location_and_the_rating_comment(
    offline_gateway: RunningGateway,
) -> None:
    gw = offline_gateway
    db, token, contact_id = await _setup(gw)
    filed = await file_case(
        db,
        CaseDraft(
            kind=Kind.PETITION,
            content="Đường trước nhà tôi bị ngập sau mỗi trận mưa.",
            subject="Đường ngập",
            location="Ngõ 5 phố Hàng Bông",
            consent=True,
        ),
        contact_id,
    )
    code = filed.display_code
    status, case = await call(gw, token, "GET", f"/cases/{code}")
    assert status == 200 and case["location"] == "Ngõ 5 phố Hàng Bông"
    assert case["rating"] is None
    for to, note in (("accepted", ""), ("answered", "Đã khơi thông cống.")):
        status, answer = await call(
            gw, token, "POST", f"/cases/{code}/transition", {"to": to, "note": note}
        )
        assert status == 200, answer
    assert await rate_case(db, code, contact_id, 4, "Xử lý nhanh, cảm ơn <b>cán bộ</b>")
    status, case = await call(gw, token, "GET", f"/cases/{code}")
    assert case["rating"]["score"] == 4
    assert case["rating"]["comment"] == "Xử lý nhanh, cảm ơn <b>cán bộ</b>"
    assert case["rating"]["at"]
