"""Open311's pure rules: every status maps to open or closed, filters are checked, and what is
published has no personal data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain import codes
from bot.domain.cases import OPEN_STATUSES, Kind, Status
from bot.domain.open311 import (
    OPEN311_STATUS,
    WINDOW,
    PublicCase,
    request_document,
    request_filter,
)
from bot.errors import InvalidInput

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def test_every_status_reads_as_open_or_closed() -> None:
    assert set(OPEN311_STATUS) == set(Status)
    assert {s for s, o in OPEN311_STATUS.items() if o == "open"} == OPEN_STATUSES
    assert OPEN311_STATUS[Status.ANSWERED] == OPEN311_STATUS[Status.WITHDRAWN] == "closed"


def test_the_default_period_is_the_last_90_days() -> None:
    f = request_filter({}, NOW)
    assert (f.start, f.end) == (NOW - WINDOW, NOW)
    only_start = request_filter({"start_date": "2026-01-01T00:00:00Z"}, NOW)
    assert only_start.end == datetime(2026, 1, 1, tzinfo=UTC) + WINDOW


@pytest.mark.parametrize(
    "query",
    [
        {"start_date": "2026-01-01"},  # accepted: a date is a time at Vietnam midnight
    ],
)
def test_dates_without_a_zone_are_vietnam_time(query: dict[str, str]) -> None:
    f = request_filter(query, NOW)
    assert f.start == datetime(2025, 12, 31, 17, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "query",
    [
        {"status": "open,pending"},
        {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-04-02T00:00:00Z"},
        {"end_date": "soon"},
        {"service_code": "giai-trinh"},
    ],
)
def test_bad_filters_are_refused(query: dict[str, str]) -> None:
    with pytest.raises(InvalidInput):
        request_filter(query, NOW)


def test_ids_override_the_other_filters() -> None:
    code = codes.new_code()
    typed = codes.display(code).lower()
    f = request_filter({"service_request_id": f"{typed}, nonsense", "status": "bad"}, NOW)
    assert f.start is None and f.statuses == () and f.codes == (code,)
    assert request_filter({"service_request_id": "nonsense"}, NOW).by_codes


def test_a_published_request_hides_the_requester_wherever_it_was_typed() -> None:
    case = PublicCase(
        code="AB12CD34E",
        kind=Kind.PETITION,
        status=Status.REFUSED,
        agency="UBND phường",
        content="Tôi là Lê Văn Tám (tam@example.vn, 0912 345 678, CCCD 001099012345): cống tắc.",
        location="Ngõ 5",
        locality="",
        answer="",
        refusal_reason="Không thuộc thẩm quyền; ông Lê Văn Tám gửi UBND quận.",
        created_at=NOW,
        updated_at=NOW + timedelta(days=1),
        due_at=None,
        requester_name="Lê Văn Tám",
        requester_contact="0912345678, tam@example.vn",
    )
    doc = request_document(case)
    text = str(doc)
    for secret in ("Tám", "tam@", "0912", "001099012345"):
        assert secret not in text, (secret, doc)
    assert doc["status"] == "closed" and doc["status_notes"].startswith("Không thuộc thẩm quyền")
    assert "lat" not in doc and "expected_datetime" not in doc
    assert doc["requested_datetime"] == "2026-11-26T19:00:00+07:00"
