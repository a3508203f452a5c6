"""Open data: an Open311 GeoReport v2 client (the `georeport` package, over `requests`) lists
the services, files a petition with the API key, reads it back, and every document validates
against the GeoReport v2 schemas of tests/data/open311; cases without the citizen's consent,
and personal data, never come out."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from georeport import GeoReport
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from bench.servers import free_port
from bot.domain.actors import Actor
from bot.domain.cases import Kind
from bot.domain.open311 import MAX_RESULTS, request_filter
from bot.domain.roles import Role
from bot.gateway import DB
from bot.services.case_queries import get_case
from bot.services.cases import CaseDraft, file_case, transition_case
from bot.services.demo import load_demo
from bot.services.open311 import public_requests
from bot.settings import PROJECT_ROOT
from bot.store.models import utcnow
from tests.conftest import RunningGateway, Tokens, gateway_settings, running_gateway

SCHEMAS = PROJECT_ROOT / "tests" / "data" / "open311"
OFFICER = Actor("test", Role.ADMIN)
NAME, PHONE, EMAIL = "Trần Thị Bích", "0912345678", "bich.tran@example.vn"
TYPED_PHONE = "0987 654 321"  # a phone number the citizen typed into the description


def validate(document: Any, schema: str) -> Any:
    """The document, after it validated against one of the GeoReport v2 schemas."""
    spec = json.loads((SCHEMAS / f"{schema}.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(spec)
    errors = [e.message for e in Draft202012Validator(spec).iter_errors(document)]
    assert not errors, f"{schema}: {errors} in {document}"
    return document


def root(gw: RunningGateway) -> str:
    return f"{gw.base_url}/open311/v2"


async def get(gw: RunningGateway, path: str, **params: str) -> requests.Response:
    """A GET as any HTTP client sends it (the error cases the georeport client raises on)."""
    return await asyncio.to_thread(requests.get, f"{root(gw)}{path}", params=params, timeout=20)


async def post(gw: RunningGateway, data: Any, **kwargs: Any) -> requests.Response:
    """POST requests.json, form-encoded unless told otherwise."""
    url = f"{root(gw)}/requests.json"
    return await asyncio.to_thread(requests.post, url, data=data, timeout=20, **kwargs)


def petition(key: str, consent: str = "yes", **extra: str) -> dict[str, str]:
    """A POST's fields as an Open311 client sends them."""
    return {
        "api_key": key,
        "service_code": "phan-anh",
        "description": f"Đường Tràng Thi ngập sâu sau mưa, gọi tôi số {TYPED_PHONE}.",
        "address_string": "Trước số 12 Tràng Thi",
        "lat": "21.0277",
        "long": "105.8471",
        "attribute[public]": consent,
        "attribute[locality]": "w:70",
        "first_name": "Thị Bích",
        "last_name": "Trần",
        "phone": PHONE,
        "email": EMAIL,
        **extra,
    }


def assert_no_personal_data(text: str) -> None:
    for secret in (NAME, "Bích", PHONE, "0987", "654 321", EMAIL, "example.vn"):
        assert secret not in text, f"{secret!r} was published: {text}"


async def test_an_open311_client_files_and_reads_back_a_public_petition(
    offline_gateway: RunningGateway, tokens: Tokens
) -> None:
    gw = offline_gateway
    db = gw.app[DB]
    await load_demo(db)
    client = GeoReport(root(gw), api_key=tokens.open311)

    services = validate(await asyncio.to_thread(client.get_service_list), "services")
    assert [s["service_code"] for s in services] == ["phan-anh"], services
    definition = await asyncio.to_thread(client.get_service_definition, "phan-anh")
    validate(definition, "service_definition")
    consent = next(a for a in definition["attributes"] if a["code"] == "public")
    assert consent["required"] is True and {v["key"] for v in consent["values"]} == {"yes", "no"}

    answer = await post(gw, petition(tokens.open311))
    assert answer.status_code == 201, answer.text
    public_id = validate(answer.json(), "post_response")[0]["service_request_id"]
    answer = await post(gw, petition(tokens.open311, consent="no"))
    assert answer.status_code == 201, answer.text
    private_id = answer.json()[0]["service_request_id"]
    chat = await file_case(  # filed in chat, never asked to publish
        db, CaseDraft(kind=Kind.PETITION, content="Đèn đường hỏng ở ngõ 5."), None
    )

    one = await asyncio.to_thread(client.get_service_request, public_id)
    validate([one], "requests")
    assert one["service_request_id"] == public_id and one["status"] == "open"
    assert one["service_code"] == "phan-anh" and one["service_name"] == "Phản ánh, kiến nghị"
    assert "Tràng Thi ngập sâu" in one["description"] and "[số điện thoại]" in one["description"]
    assert one["address"] == "Trước số 12 Tràng Thi, Phường Hoàn Kiếm, Thành phố Hà Nội"
    assert (one["lat"], one["long"]) == (21.0277, 105.8471)
    assert one["agency_responsible"] and "expected_datetime" in one
    assert "media_url" not in one

    now = datetime.now(UTC)
    period = {
        "start_date": (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "end_date": (now + timedelta(hours=1)).isoformat(),
    }
    listed = await asyncio.to_thread(
        client.get_service_requests, service_code="phan-anh", status="open", **period
    )
    ids = [r["service_request_id"] for r in validate(listed, "requests")]
    assert ids == [public_id], ids  # neither the refused consent nor the chat's case
    both = f"{public_id},{private_id},{chat.display_code}"
    by_id = await asyncio.to_thread(client.get_service_requests, service_request_id=both)
    assert [r["service_request_id"] for r in validate(by_id, "requests")] == [public_id]
    nothing = await asyncio.to_thread(client.get_service_requests, service_request_id="nonsense")
    assert nothing == []
    for hidden in (private_id, chat.display_code, "ZZZZ-ZZZZZ"):
        missing = await get(gw, f"/requests/{hidden}.json")
        assert missing.status_code == 404, missing.text
        assert validate(missing.json(), "errors")[0]["code"] == 404

    staff_view = await get_case(db, public_id, OFFICER)  # officers know what they publish
    assert staff_view.as_json()["public"] is True
    assert staff_view.requester_name == NAME and PHONE in staff_view.requester_contact
    assert staff_view.events[0]["actor"].startswith("open311:"), staff_view.events
    assert (await get_case(db, private_id, OFFICER)).as_json()["public"] is False
    await transition_case(db, public_id, "in_progress", OFFICER)
    await transition_case(
        db, public_id, "answered", OFFICER, f"Đã bơm thoát nước; liên hệ {NAME} qua {PHONE}."
    )
    closed = await asyncio.to_thread(client.get_service_requests, status="closed")
    assert [r["service_request_id"] for r in validate(closed, "requests")] == [public_id]
    assert closed[0]["status_notes"].startswith("Đã bơm thoát nước")
    assert "expected_datetime" not in closed[0]
    assert await asyncio.to_thread(client.get_service_requests, status="open") == []

    texts = [
        (await get(gw, path, **params)).text
        for path, params in (
            ("/requests.json", {}),
            ("/requests.json", {"service_request_id": both}),
            (f"/requests/{public_id}.json", {}),
        )
    ]
    for text in texts:
        assert public_id in text
        assert_no_personal_data(text)


BAD_QUERIES = [
    {"start_date": "yesterday"},
    {"end_date": "2026-13-01T00:00:00Z"},
    {"status": "pending"},
    {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"},  # > 90 days
    {"start_date": "2026-02-01T00:00:00Z", "end_date": "2026-01-01T00:00:00Z"},
    {"service_code": "giai-trinh"},  # explanation requests are not a service
]


async def test_open311_refuses_wrong_keys_bad_filters_and_bad_bodies(
    offline_gateway: RunningGateway, tokens: Tokens
) -> None:
    gw = offline_gateway
    await load_demo(gw.app[DB])
    refused: list[tuple[requests.Response, int]] = []
    for params in BAD_QUERIES:
        refused.append((await get(gw, "/requests.json", **params), 400))
    refused += [
        (await get(gw, "/services/giai-trinh.json"), 404),
        (await get(gw, "/services.xml"), 404),
        (await post(gw, {k: v for k, v in petition("").items() if k != "api_key"}), 403),
        (await post(gw, petition(tokens.open311 + "x")), 403),
        (await post(gw, petition(tokens.open311, consent="")), 400),
        (await post(gw, petition(tokens.open311, consent="maybe")), 400),
        (await post(gw, petition(tokens.open311, description="  ")), 400),
        (await post(gw, petition(tokens.open311, service_code="giai-trinh")), 400),
        (await post(gw, petition(tokens.open311, lat="91")), 400),
        (await post(gw, None, json={**petition(tokens.open311), "description": ["a"]}), 400),
        (await post(gw, petition(tokens.open311, **{"attribute[locality]": "w:0"})), 400),
        (
            await post(
                gw,
                {**petition(tokens.open311), "address_string": "", "lat": "", "long": ""},
            ),
            400,
        ),
        (
            await post(
                gw,
                b"api_key=" + tokens.open311.encode() + b"&description=\xff\xfe",
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            ),
            400,
        ),
        (
            await post(
                gw,
                b"description=" + b"a" * (2 * 1024 * 1024),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            ),
            413,
        ),
    ]
    wrong = [
        f"{r.request.method} {r.url[:120]}: {r.status_code} (expected {status}) {r.text[:200]}"
        for r, status in refused
        if r.status_code != status or validate(r.json(), "errors")[0]["code"] != status
    ]
    assert not wrong, "\n".join(wrong)
    assert validate((await get(gw, "/requests.json")).json(), "requests") == []


async def test_a_petition_posted_as_json_is_filed_too(
    offline_gateway: RunningGateway, tokens: Tokens
) -> None:
    gw = offline_gateway
    await load_demo(gw.app[DB])
    fields = petition(tokens.open311)
    del fields["attribute[public]"]
    answer = await post(gw, None, json={**fields, "attribute": {"public": "yes"}})
    assert answer.status_code == 201, answer.text
    code = validate(answer.json(), "post_response")[0]["service_request_id"]
    listed = (await get(gw, "/requests.json")).json()
    assert [r["service_request_id"] for r in validate(listed, "requests")] == [code]
    newer = (await post(gw, petition(tokens.open311))).json()[0]["service_request_id"]
    listed = (await get(gw, "/requests.json")).json()
    assert [r["service_request_id"] for r in listed] == [newer, code], "newest first"
    first = await public_requests(gw.app[DB], replace(request_filter({}, utcnow()), limit=1))
    assert [r["service_request_id"] for r in first] == [newer]


def test_a_list_holds_at_most_1000_requests() -> None:
    assert request_filter({}, utcnow()).limit == MAX_RESULTS == 1000


@pytest.mark.parametrize("schema", ["services", "service_definition", "requests", "errors"])
def test_the_schemas_refuse_what_the_spec_does_not_allow(schema: str) -> None:
    """A schema that accepted anything could not fail the tests above."""
    spec = json.loads((SCHEMAS / f"{schema}.json").read_text(encoding="utf-8"))
    bad: dict[str, Any] = {
        "services": [{"service_code": "x", "service_name": "x", "metadata": "yes", "type": "x"}],
        "service_definition": {"service_code": "x", "attributes": [{"code": "x"}]},
        "requests": [
            {
                "service_request_id": "A",
                "status": "open",
                "service_code": "x",
                "requested_datetime": "2026-01-01T00:00:00+07:00",
                "requester_name": NAME,
            }
        ],
        "errors": {"error": {"code": "x", "message": "x"}},
    }
    assert list(Draft202012Validator(spec).iter_errors(bad[schema]))


async def test_open311_limits_posts_per_key_and_reads_per_address(
    database_url: str, tokens: Tokens
) -> None:
    settings = gateway_settings(
        database_url,
        tokens,
        f"http://127.0.0.1:{free_port()}",
        open311_posts_per_key_burst=1,
        open311_posts_per_key_per_min=1,
        open311_reads_per_ip_burst=2,
        open311_reads_per_ip_per_min=1,
    )
    async with running_gateway(settings, free_port()) as gw:
        await load_demo(gw.app[DB])
        first = await post(gw, petition(tokens.open311))
        second = await post(gw, petition(tokens.open311))
        assert (first.status_code, second.status_code) == (201, 429), second.text
        assert validate(second.json(), "errors")[0]["code"] == 429
        assert int(second.headers["Retry-After"]) >= 1
        reads = [(await get(gw, "/services.json")).status_code for _ in range(3)]
        assert reads == [200, 200, 429], reads
        answer = await get(gw, "/requests.json")
        assert answer.headers["Access-Control-Allow-Origin"] == "*"


FIELDS = st.sampled_from(
    ["api_key", "service_code", "description", "address_string", "lat", "long",
     "attribute[public]", "attribute[locality]", "first_name", "email", "media_url"]
)  # fmt: skip


@pytest.fixture
async def unlimited(database_url: str, tokens: Tokens) -> AsyncIterator[RunningGateway]:
    """A gateway whose Open311 limits a hundred generated posts do not reach."""
    settings = gateway_settings(
        database_url,
        tokens,
        f"http://127.0.0.1:{free_port()}",
        open311_posts_per_key_burst=1_000_000,
        open311_posts_per_key_per_min=1_000_000,
    )
    async with running_gateway(settings, free_port()) as gw:
        await load_demo(gw.app[DB])
        yield gw


@given(
    fields=st.dictionaries(FIELDS, st.text(max_size=60), max_size=8),
    raw=st.binary(max_size=200),
    as_json=st.booleans(),
)
async def test_any_post_is_answered_in_the_spec_shape_and_never_fails(
    unlimited: RunningGateway,
    tokens: Tokens,
    fields: dict[str, str],
    raw: bytes,
    as_json: bool,
) -> None:
    gw = unlimited
    url = f"{root(gw)}/requests.json"
    form = {**petition(tokens.open311), **fields}
    attempts: list[dict[str, Any]] = [
        {"json": form} if as_json else {"data": form},
        {"data": raw, "headers": {"Content-Type": "application/x-www-form-urlencoded"}},
        {"data": raw, "headers": {"Content-Type": "application/json"}},
    ]
    for kwargs in attempts:
        async with gw.http.post(url, **kwargs) as resp:
            body = await resp.json(content_type=None)
        assert resp.status in (201, 400, 403), (resp.status, body, kwargs)
        validate(body, "post_response" if resp.status == 201 else "errors")
