"""The typical questions an officer publishes with an explanation: stored per version,
returned, checked, and searched with it (API on a real database, no engine)."""

from __future__ import annotations

from typing import Any

from bot.gateway import DB
from bot.services.demo import load_demo
from bot.services.knowledge import answer_report
from bot.services.users import create_user
from tests.conftest import RunningGateway
from tests.integration.test_case_api import call

PARKING = {
    "title": "Phí trông giữ xe đạp, xe máy tại chợ phường",
    "summary": "Mức thu phí trông giữ xe tại chợ phường từ tháng 12/2026.",
    "body": (
        "Từ ngày 01/12/2026, mức thu phí trông giữ xe máy tại chợ phường là 3.000 đồng "
        "mỗi lượt ban ngày. Người thu phải đưa vé có in mệnh giá."
    ),
    "topics": ["datdai"],
    "localities": ["p:1"],
    "questions": [
        "  Gửi xe ở chợ mất bao nhiêu tiền?  ",
        "Bảo vệ chợ không đưa vé khi lấy tiền gửi xe thì sao?",
    ],
}


async def _officer(gw: RunningGateway) -> str:
    await load_demo(gw.app[DB])
    return await create_user(gw.app[DB], "editor", "officer", "ubnd-phuong-demo")


async def test_published_questions_are_stored_returned_and_kept_by_a_new_version(
    offline_gateway: RunningGateway,
) -> None:
    gw = offline_gateway
    token = await _officer(gw)
    stripped = [q.strip() for q in PARKING["questions"]]

    status, published = await call(gw, token, "POST", "/explanations", PARKING)
    assert status == 201, published
    assert published["questions"] == stripped, "returned stripped, in order"
    status, stored = await call(gw, token, "GET", f"/explanations/{published['slug']}")
    assert status == 200 and stored["questions"] == stripped, stored

    # A corrected body without `questions`: the new version keeps the current one's.
    edit = {k: v for k, v in PARKING.items() if k != "questions"}
    status, second = await call(gw, token, "POST", "/explanations", {**edit, "summary": "Sửa."})
    assert status == 201 and second["version"] == 2 and second["questions"] == stripped, second
    # Given, they replace them in the new version; the old version keeps its own.
    status, third = await call(
        gw, token, "POST", "/explanations", {**PARKING, "questions": ["Vé gửi xe giá bao nhiêu?"]}
    )
    assert status == 201 and third["questions"] == ["Vé gửi xe giá bao nhiêu?"], third
    status, old = await call(gw, token, "GET", f"/explanations/{published['slug']}/versions/1")
    assert status == 200 and old["questions"] == stripped, old
    status, current = await call(gw, token, "GET", f"/explanations/{published['slug']}")
    assert current["version"] == 3 and current["questions"] == ["Vé gửi xe giá bao nhiêu?"]

    # Searched with the explanation: words only its questions use find it.
    report = await answer_report(gw.app[DB], "gửi xe ở chợ mất bao nhiêu tiền")
    assert report.hits and report.hits[0].doc.slug == published["slug"], report.lines()
    assert "Vé gửi xe" not in report.excerpt, "the answer comes from the body"


async def test_bad_questions_are_refused_with_a_clear_400(
    offline_gateway: RunningGateway,
) -> None:
    gw = offline_gateway
    token = await _officer(gw)
    cases: list[tuple[Any, str]] = [
        (["Câu hỏi thứ nhất?", "   "], "#2"),
        (["x" * 301], "300"),
        (["Dòng một\nDòng hai"], "control"),
        ([f"Câu hỏi số {i}?" for i in range(31)], "30"),
    ]
    for questions, says in cases:
        status, error = await call(
            gw, token, "POST", "/explanations", {**PARKING, "questions": questions}
        )
        assert status == 400, (questions, error)
        assert error["error"]["code"] == "invalid_questions", error
        assert says in error["error"]["message"], error
    status, error = await call(gw, token, "POST", "/explanations", {**PARKING, "questions": [1]})
    assert status == 400 and error["error"]["code"] == "invalid_body", error
    assert "questions" in error["error"]["message"], error
    status, error = await call(gw, token, "POST", "/explanations", {**PARKING, "questions": "ab"})
    assert status == 400 and "questions" in error["error"]["message"], error
    slug = "phi-trong-giu-xe-dap-xe-may-tai-cho-phuong"
    status, missing = await call(gw, token, "GET", f"/explanations/{slug}")
    assert status == 404, "nothing was published"
