"""Hostile input on every inbound parser: a clear 4xx with a stable code, never a 500, and
nothing half-stored. Named cases first (each reproduced a 500 once), then property-based
tests (hypothesis) that throw random JSON, wrong types, invalid UTF-8, control characters
and deep nesting at the web chat, the Telegram and Zalo webhooks and the officer API."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta, timezone
from typing import Any
from urllib.parse import quote, quote_from_bytes, urlsplit

import pytest
from hypothesis import event, given
from hypothesis import strategies as st
from sqlalchemy import func, select
from yarl import URL

from bot.domain.cases import Kind
from bot.domain.messages import Direction
from bot.gateway import DB
from bot.services.cases import CaseDraft, file_case
from bot.services.demo import load_demo
from bot.services.users import create_user
from bot.settings import Settings
from bot.store.models import CaseEvent, Contact, Explanation, Message
from connectors.zalo import signature
from tests.conftest import (
    TELEGRAM_SECRET,
    ZALO_APP_ID,
    ZALO_OA_SECRET,
    RunningGateway,
    Tokens,
    free_port,
    gateway_settings,
    running_gateway,
    telegram_settings,
    zalo_settings,
)
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.zalo_api import FakeZalo, now_ms

TG_HEADER = "X-Telegram-Bot-Api-Secret-Token"
DEEP = 100_000  # nesting levels: far past Python's recursion limit, well under 1 MiB


@dataclass
class Hostile:
    """A gateway with every inbound channel on, no engine, an officer token and one case."""

    gw: RunningGateway
    token: str
    case_code: str
    session_id: str

    @property
    def url(self) -> str:
        return self.gw.base_url

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def send(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        """One request; `path` goes as written (already percent-encoded, any bytes)."""
        async with self.gw.http.request(
            method, URL(f"{self.url}{path}", encoded=True), data=body, headers=headers or {}
        ) as resp:
            raw = await resp.read()
            try:
                data = json.loads(raw)
            except ValueError:
                data = raw
            return resp.status, data

    async def officer(self, method: str, path: str, body: bytes) -> tuple[int, Any]:
        return await self.send(method, f"/api/v1{path}", body, headers=self.auth)

    async def telegram(self, body: bytes) -> tuple[int, Any]:
        return await self.send("POST", "/webhooks/telegram", body, {TG_HEADER: TELEGRAM_SECRET})

    async def zalo(self, body: bytes, app_id: str, timestamp: str) -> tuple[int, Any]:
        mac = signature(app_id, body, timestamp, ZALO_OA_SECRET)
        return await self.send("POST", "/webhooks/zalo", body, {"X-ZEvent-Signature": f"mac={mac}"})

    async def counts(self) -> dict[str, int]:
        """Rows that only an accepted request may add."""
        async with self.gw.app[DB].session() as session:

            async def count(model: Any, *where: Any) -> int:
                query = select(func.count()).select_from(model).where(*where)
                return int(await session.scalar(query) or 0)

            return {
                "inbound": await count(Message, Message.direction == Direction.IN),
                "contacts": await count(Contact),
                "case_events": await count(CaseEvent),
                "explanations": await count(Explanation),
            }


# The parsers are under test here, not the web chat's limits (test_web_limits.py): a hundred
# generated requests from one address must all reach them.
UNLIMITED_WEB = {
    name: 1_000_000
    for name in Settings.model_fields
    if name.startswith("web_") and name.endswith(("_burst", "_per_min"))
}


@pytest.fixture
async def hostile(
    database_url: str, tokens: Tokens, fake_telegram: FakeTelegram, fake_zalo: FakeZalo
) -> AsyncIterator[Hostile]:
    """The gateway under attack; the engine's port is closed (messages stay queued)."""
    settings = gateway_settings(
        database_url,
        tokens,
        f"http://127.0.0.1:{free_port()}",
        retry_interval=3600,
        **UNLIMITED_WEB,
        **telegram_settings(fake_telegram),
        **zalo_settings(fake_zalo),
    )
    async with running_gateway(settings, free_port()) as gw:
        db = gw.app[DB]
        await load_demo(db)
        token = await create_user(db, "officer1", "officer", "ubnd-phuong-demo")
        filed = await file_case(
            db,
            CaseDraft(
                kind=Kind.EXPLANATION,
                content="Đề nghị giải trình việc thu hồi đất của gia đình tôi.",
                subject="Quyết định 12/QĐ-UBND",
                target="Phường Hoàn Kiếm",
                requester_name="Nguyễn Văn An",
                requester_contact="0912345678",
                consent=True,
            ),
            None,
        )
        chat = await gw.chat()
        yield Hostile(gw, token, filed.display_code, chat.session_id)
        await gw.flow.drain()


def encode_query(pairs: dict[str, bytes]) -> str:
    """A query string of any bytes, percent-encoded."""
    return "&".join(f"{quote(k, safe='')}={quote_from_bytes(v, safe='')}" for k, v in pairs.items())


def error_code(status: int, data: Any) -> str:
    """The stable code of a 4xx answer (and proof that it is the one JSON error shape)."""
    assert 400 <= status < 500, (status, data)
    assert isinstance(data, dict) and isinstance(data["error"]["code"], str), data
    return str(data["error"]["code"])


async def raw_http(base_url: str, head: bytes, body: bytes = b"") -> tuple[int, bytes]:
    """One request written byte for byte (a client library would refuse these headers)."""
    parts = urlsplit(base_url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    try:
        writer.write(
            head + f"\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body
        )
        await writer.drain()
        answer = await reader.read()
    finally:
        writer.close()
    status_line, _, rest = answer.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]


# -- named cases ------------------------------------------------------------------------------


async def test_a_non_ascii_byte_in_the_telegram_secret_header_is_400(hostile: Hostile) -> None:
    update = json.dumps({"update_id": 1}).encode()
    for secret in (b"caf\xc3\xa9", b"test_secret-12\xff", b"\xff" * 300):
        head = b"POST /webhooks/telegram HTTP/1.1\r\nHost: x\r\n" + TG_HEADER.encode() + b": "
        status, body = await raw_http(hostile.url, head + secret, update)
        assert status == 400, (secret, status, body)
        assert json.loads(body)["error"]["code"] == "invalid_secret_token"
    assert (await hostile.counts())["inbound"] == 0


async def test_a_non_ascii_byte_in_the_zalo_signature_header_is_a_forgery(
    hostile: Hostile,
) -> None:
    event = {"app_id": ZALO_APP_ID, "timestamp": now_ms(), "event_name": "user_send_text"}
    body = json.dumps(event).encode()
    for mac in (b"caf\xc3\xa9", b"0" * 63 + b"\xff", b"\xff" * 300):
        head = b"POST /webhooks/zalo HTTP/1.1\r\nHost: x\r\nX-ZEvent-Signature: mac="
        status, answer = await raw_http(hostile.url, head + mac, body)
        assert status == 403, (mac, status, answer)
    assert (await hostile.counts())["inbound"] == 0


async def test_deeply_nested_json_is_400_on_every_json_endpoint(hostile: Hostile) -> None:
    deep = b"[" * DEEP + b"]" * DEEP
    deep_object = b'{"a":' * DEEP + b"1" + b"}" * DEEP
    before = await hostile.counts()
    for body in (deep, deep_object):
        answers = {
            "web": await hostile.send("POST", "/api/web/messages", body),
            "telegram": await hostile.telegram(body),
            "transition": await hostile.officer(
                "POST", f"/cases/{hostile.case_code}/transition", body
            ),
            "assign": await hostile.officer("POST", f"/cases/{hostile.case_code}/assign", body),
            "publish": await hostile.officer("POST", "/explanations", body),
        }
        for name, (status, data) in answers.items():
            assert error_code(status, data) == "invalid_json", name
        # Zalo cannot even read who signed it: refused like a forgery.
        status, data = await hostile.zalo(body, ZALO_APP_ID, now_ms())
        assert error_code(status, data) == "forbidden"
    assert await hostile.counts() == before


async def test_a_nested_value_inside_a_signed_zalo_event_is_refused(hostile: Hostile) -> None:
    timestamp = now_ms()
    body = (
        f'{{"app_id":"{ZALO_APP_ID}","timestamp":"{timestamp}","event_name":"user_send_text",'
        f'"sender":{{"id":"1"}},"message":{{"msg_id":"m1","text":'.encode()
        + b"[" * DEEP
        + b"]" * DEEP
        + b"}}"
    )
    status, data = await hostile.zalo(body, ZALO_APP_ID, timestamp)
    assert error_code(status, data) in {"invalid_json", "forbidden"}
    assert (await hostile.counts())["inbound"] == 0


async def test_after_out_of_range_is_400_invalid_after(hostile: Hostile) -> None:
    for after in ("1e23", "99999999999999999999999", str(2**63), "-1", "0x10", "", "١٢"):
        query = encode_query({"session_id": hostile.session_id.encode(), "after": after.encode()})
        status, data = await hostile.send("GET", f"/api/web/messages?{query}")
        if after == "١٢":  # other scripts' digits are digits (Python's int reads them)
            assert status == 200, (after, data)
            continue
        assert error_code(status, data) == "invalid_after", after
    query = encode_query({"session_id": hostile.session_id.encode(), "after": b"0"})
    assert (await hostile.send("GET", f"/api/web/messages?{query}"))[0] == 200


async def test_numbers_out_of_range_in_the_officer_api_are_400_invalid_filter(
    hostile: Hostile,
) -> None:
    paths = (
        "/broadcasts/99999999999999999999999",
        f"/broadcasts/{2**31}",
        "/broadcasts/-1",
        "/cases?limit=-1",
        "/cases?offset=-5",
        f"/cases?offset={2**40}",
        f"/cases?agency_id={2**63}",
        f"/explanations/giaitrinh/versions/{10**30}",
    )
    for path in paths:
        status, data = await hostile.officer("GET", path, b"")
        assert error_code(status, data) == "invalid_filter", path
    status, data = await hostile.officer("GET", "/cases?limit=10&offset=0", b"")
    assert status == 200, data


async def test_text_that_cannot_be_stored_is_refused_before_storing(hostile: Hostile) -> None:
    """A NUL character (PostgreSQL refuses it in text) or a lone surrogate (not Unicode
    text: it cannot be encoded) in a JSON string."""
    before = await hostile.counts()
    for text in ('"a\\u0000b"', '"\\ud800"', '"ok \\udfff"'):
        web = (
            f'{{"session_id":"{hostile.session_id}","client_message_id":"{uuid.uuid4().hex}",'
            f'"text":{text}}}'
        ).encode()
        status, data = await hostile.send("POST", "/api/web/messages", web)
        assert error_code(status, data) == "invalid_json", text
        update = (
            '{"update_id":77,"message":{"message_id":1,"date":1,'
            f'"chat":{{"id":5,"type":"private"}},"text":{text}}}}}'
        ).encode()
        status, data = await hostile.telegram(update)
        assert error_code(status, data) == "invalid_json", text
        timestamp = now_ms()
        event = (
            f'{{"app_id":"{ZALO_APP_ID}","timestamp":"{timestamp}",'
            f'"event_name":"user_send_text","sender":{{"id":"5"}},'
            f'"message":{{"msg_id":"m{uuid.uuid4().hex}","text":{text}}}}}'
        ).encode()
        status, data = await hostile.zalo(event, ZALO_APP_ID, timestamp)
        assert status in (400, 403), (text, status, data)
        note = f'{{"to":"accepted","note":{text}}}'.encode()
        status, data = await hostile.officer("POST", f"/cases/{hostile.case_code}/transition", note)
        assert error_code(status, data) == "invalid_json", text
    assert await hostile.counts() == before


async def test_telegram_updates_of_the_wrong_shape_are_400(hostile: Hostile) -> None:
    message = {"message_id": 1, "date": 1, "chat": {"id": 5, "type": "private"}, "text": "x"}
    wrong = [
        {"update_id": 1, "message": "x"},
        {"update_id": 2, "message": [1, 2]},
        {"update_id": 3, "message": {**message, "chat": "x"}},
        {"update_id": 4, "message": {**message, "chat": {"id": "abc", "type": "private"}}},
        {"update_id": 5, "message": {**message, "chat": {"id": 10**40, "type": "private"}}},
        {"update_id": 6, "message": {**message, "text": {"a": 1}}},
        {"update_id": 7, "message": {**message, "from": "x"}},
        {"update_id": 8, "callback_query": {"id": "c", "from": 5, "data": "x"}},
        {"update_id": 9, "callback_query": {"id": "c", "from": {"id": 5}, "data": ["x"]}},
        {"update_id": 10**40, "message": message},
    ]
    for update in wrong:
        status, data = await hostile.telegram(json.dumps(update).encode())
        assert error_code(status, data) == "invalid_update", update
    assert (await hostile.counts())["inbound"] == 0


async def test_overlong_telegram_fields_are_cut_or_refused(hostile: Hostile) -> None:
    """Names and language codes are cut to what is stored; an overlong payload is refused."""
    long_name = {"id": 6, "is_bot": False, "first_name": "Lan" * 300, "language_code": "x" * 50}
    update = {
        "update_id": 11,
        "message": {
            "message_id": 1,
            "date": 1,
            "chat": {"id": 6, "type": "private"},
            "from": long_name,
            "text": "xin chào",
        },
    }
    status, data = await hostile.telegram(json.dumps(update).encode())
    assert status == 200, data
    callback = {
        "update_id": 12,
        "callback_query": {
            "id": "c",
            "chat_instance": "ci",
            "from": {"id": 6, "is_bot": False, "first_name": "A"},
        },
    }
    callback["callback_query"]["data"] = "/x" * 1000  # type: ignore[index]
    status, data = await hostile.telegram(json.dumps(callback).encode())
    assert error_code(status, data) == "invalid_update"
    assert (await hostile.counts())["inbound"] == 1


async def test_signed_zalo_events_of_the_wrong_shape_are_400(hostile: Hostile) -> None:
    base = {"app_id": ZALO_APP_ID, "event_name": "user_send_text", "recipient": {"id": "oa"}}
    good_message = {"msg_id": "m-ok", "text": "xin chào"}
    wrong = [
        {**base, "sender": "x", "message": good_message},
        {**base, "sender": {"id": "1"}, "message": [1]},
        {**base, "sender": {"id": "1"}, "message": {"msg_id": "m2", "attachments": "x"}},
        {**base, "sender": {"id": "1"}, "message": {"msg_id": "m3", "attachments": [1]}},
        {**base, "sender": {"id": "1"}, "message": {"msg_id": "m4", "text": {"a": 1}}},
        {**base, "sender": {"id": "1" * 300}, "message": good_message},
        {**base, "sender": {"id": "1"}, "message": {"msg_id": "m" * 300, "text": "x"}},
        {**base, "event_name": "follow", "follower": "x"},
        {**base, "event_name": "unfollow", "follower": {"id": ["x"]}},
        {**base, "event_name": ["user_send_text"]},
    ]
    before = await hostile.counts()
    for bad in wrong:
        bad["timestamp"] = now_ms()
        body = json.dumps(bad).encode()
        status, data = await hostile.zalo(body, ZALO_APP_ID, str(bad["timestamp"]))
        assert error_code(status, data) == "invalid_event", bad
    assert await hostile.counts() == before


async def test_the_action_endpoint_refuses_odd_tokens_and_deep_bodies(
    hostile: Hostile, tokens: Tokens
) -> None:
    head = b"POST /webhooks/actions HTTP/1.1\r\nHost: x\r\nX-Action-Token: \xff\xfe"
    status, body = await raw_http(hostile.url, head, b"{}")
    assert status == 401 and json.loads(body)["error"]["code"] == "unauthorized"
    deep = b'{"a":' * DEEP + b"1" + b"}" * DEEP
    status, data = await hostile.send(
        "POST", "/webhooks/actions", deep, headers={"X-Action-Token": tokens.action}
    )
    assert error_code(status, data) == "invalid_json"


async def test_times_at_the_ends_of_the_calendar_are_400(hostile: Hostile) -> None:
    """Year 1 and year 9999 with an offset fall outside datetime once moved to UTC."""
    before = (await hostile.counts())["explanations"]
    for moment in ("9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+14:00"):
        body = {"title": "Tiêu đề", "body": "Nội dung", "publish_at": moment}
        status, data = await hostile.officer("POST", "/explanations", json.dumps(body).encode())
        # invalid_body: pydantic wraps the calendar's ValueError (api_explanations.py could
        # name it invalid_publish_at).
        assert error_code(status, data) in {"invalid_publish_at", "invalid_body"}, moment
        assert (await hostile.counts())["explanations"] == before
        query = encode_query({"due_before": moment.encode()})
        status, data = await hostile.officer("GET", f"/cases?{query}", b"")
        assert error_code(status, data) == "invalid_filter", moment


async def test_a_nul_anywhere_in_the_url_is_400(hostile: Hostile) -> None:
    """PostgreSQL refuses a NUL in text: a search, a filter or a path segment with one is
    refused before any handler reads it."""
    for name in ("q", "status", "due_before", "a%00b"):
        status, data = await hostile.officer("GET", f"/cases?{name}=a%00b", b"")
        assert error_code(status, data) == "invalid_url", name
    status, data = await hostile.officer("GET", "/explanations/a%00b", b"")
    assert error_code(status, data) == "invalid_url"
    status, data = await hostile.send("GET", "/api/web/messages?session_id=a%00b&after=0")
    assert error_code(status, data) == "invalid_url"


# -- property-based: random bodies on every parser --------------------------------------------
# The profile (tests/conftest.py) is derandomized: every run tries the same examples.

SESSION = "@@SESSION@@"  # stands for the fixture's real session id inside generated bodies
CODE = "@@CASE@@"  # the fixture's real case code
ANY_CHAR = st.characters(codec=None, exclude_categories=())  # surrogates included
texts = st.text(
    alphabet=st.one_of(
        ANY_CHAR,
        st.characters(max_codepoint=0x1F),  # control characters, NUL included
        st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF),  # lone surrogates
        st.sampled_from("aăâđêôơưàảãáạ /{}[]\"'\\#%?&=0123456789"),
    ),
    max_size=30,
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=False, allow_infinity=False),
    texts,
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=10,
)
words = st.text(alphabet="aăâđêôơưàảãáạbcdghklmnpqrstvxy ", min_size=1, max_size=30).filter(
    str.strip
)


# A value of the wrong kind that is not falsy either (a parser's `x or {}` lets those pass).
junk = st.one_of(
    st.just(True),
    st.integers(min_value=1),
    texts.filter(bool),
    st.lists(scalars, min_size=1, max_size=3),
    st.dictionaries(texts, scalars, min_size=1, max_size=3),
    json_values,
)


@st.composite
def either(draw: st.DrawFn, good: st.SearchStrategy[Any]) -> Any:
    """A field mostly as the platform sends it, sometimes anything at all in its place."""
    return draw(good) if draw(st.integers(0, 3)) < 3 else draw(junk)


@st.composite
def shaped(
    draw: st.DrawFn,
    fields: dict[str, st.SearchStrategy[Any]],
    optional: dict[str, st.SearchStrategy[Any]] | None = None,
) -> dict[str, Any]:
    """An object with these fields, now and then one of them missing."""
    value = draw(st.fixed_dictionaries(fields, optional=optional or {}))
    if value and draw(st.integers(0, 4)) == 0:
        del value[draw(st.sampled_from(sorted(value)))]
    return value


MAX_DEPTH_TRIED = 20  # nesting tried: from below the gateway's limit (32) to far above it


def deep(levels: int, kind: str) -> bytes:
    if kind == "list":
        return b"[" * levels + b"]" * levels
    return b'{"a":' * levels + b"0" + b"}" * levels


@st.composite
def dumped(draw: st.DrawFn, shaped: st.SearchStrategy[Any]) -> bytes:
    """A body: a shaped object, any JSON, bytes that are not UTF-8 or not JSON, or nesting
    past every limit; JSON written with or without escapes (a lone surrogate written raw
    is invalid UTF-8)."""
    kind = draw(st.sampled_from(["shaped"] * 5 + ["json", "bytes", "deep"]))
    if kind == "bytes":
        return draw(st.binary(max_size=40))
    if kind == "deep":
        levels = draw(st.sampled_from([33, 1_000, 100_000]) | st.integers(MAX_DEPTH_TRIED, 3000))
        return deep(levels, draw(st.sampled_from(["list", "object"])))
    value = draw(shaped if kind == "shaped" else json_values)
    text = json.dumps(value, ensure_ascii=draw(st.booleans()))
    return text.encode("utf-8", "surrogatepass")


web_messages = shaped(
    {
        "session_id": either(st.just(SESSION)),
        "client_message_id": either(st.uuids().map(lambda u: u.hex)),
        "text": either(words | texts),
    },
    {"payload": either(texts)},
)
telegram_users = st.fixed_dictionaries(
    {
        "id": either(st.integers(1, 2**40)),
        "is_bot": st.booleans(),
        "first_name": either(texts),
    },
    optional={"language_code": either(st.sampled_from(["vi", "en", "pt-br"]) | texts)},
)
telegram_messages = st.fixed_dictionaries(
    {
        "message_id": st.integers(1, 10**6),
        "date": st.integers(0, 2**31),
        "chat": either(
            st.fixed_dictionaries(
                {"id": either(st.integers(-(2**40), 2**40)), "type": st.just("private")}
            )
        ),
    },
    optional={
        "from": either(telegram_users),
        "text": either(texts),
        "caption": either(texts),
        "location": either(
            st.fixed_dictionaries(
                {"latitude": st.floats(-90, 90), "longitude": st.floats(-180, 180)}
            )
        ),
        "photo": either(
            st.lists(
                st.fixed_dictionaries(
                    {
                        "file_id": either(texts),
                        "file_unique_id": texts,
                        "width": st.integers(1, 99),
                        "height": st.integers(1, 99),
                    }
                ),
                max_size=2,
            )
        ),
    },
)
telegram_updates = st.fixed_dictionaries(
    {"update_id": either(st.integers(1, 2**31))},
    optional={
        "message": either(telegram_messages),
        "edited_message": telegram_messages,
        "callback_query": either(
            st.fixed_dictionaries(
                {"id": either(texts), "from": either(telegram_users), "chat_instance": texts},
                optional={"data": either(texts), "message": either(telegram_messages)},
            )
        ),
    },
)
zalo_ids = either(st.integers(1, 10**19).map(str))
zalo_attachments = st.fixed_dictionaries(
    {"type": either(st.sampled_from(["image", "file", "location", "sticker", "audio"]))},
    optional={
        "payload": either(
            st.fixed_dictionaries(
                {},
                optional={
                    "url": either(texts),
                    "thumbnail": either(texts),
                    "coordinates": either(
                        st.fixed_dictionaries(
                            {"latitude": either(texts), "longitude": either(texts)}
                        )
                    ),
                },
            )
        )
    },
)
zalo_events = shaped(
    {
        "event_name": either(
            st.sampled_from(
                ["user_send_text", "user_send_image", "follow", "unfollow", "user_seen_message"]
            )
        ),
        "sender": either(st.fixed_dictionaries({"id": zalo_ids})),
        "message": either(
            shaped(
                {"msg_id": either(st.uuids().map(lambda u: u.hex)), "text": either(words | texts)},
                {"attachments": either(st.lists(zalo_attachments, max_size=2))},
            )
        ),
    },
    {
        "follower": either(st.fixed_dictionaries({"id": zalo_ids})),
        "recipient": either(st.fixed_dictionaries({"id": zalo_ids})),
        "source": either(st.sampled_from(["sub_datdai", "sub_", "qr"]) | texts),
        "tracking_id": either(texts),
    },
)
transitions = shaped(
    {
        "to": either(st.sampled_from(["accepted", "refused", "in_progress", "answered"])),
        "note": either(words | texts),
    }
)
assignments = shaped({"username": either(st.just("officer1") | texts)})
offsets = st.timedeltas(min_value=-timedelta(hours=23, minutes=59), max_value=timedelta(hours=23))
publications = shaped(
    {
        "title": either(words | texts),
        "body": either(words | texts),
        "topics": either(st.lists(st.sampled_from(["datdai", "thutuc"]) | texts, max_size=3)),
        "localities": either(
            st.lists(st.sampled_from(["country", "p:1", "w:70"]) | texts, max_size=3)
        ),
    },
    {
        "summary": either(texts),
        "source_document": either(texts),
        "publish_at": either(
            st.datetimes(timezones=st.none() | st.builds(timezone, offsets)).map(
                lambda moment: moment.isoformat()
            )
            | texts
        ),
        "slug": either(st.sampled_from(["giaitrinh", "bai-moi"]) | texts),
    },
)
query_values = st.one_of(
    st.integers(-(2**70), 2**70).map(lambda n: str(n).encode()),
    texts.map(lambda text: text.encode("utf-8", "surrogatepass")),  # invalid UTF-8 too
    st.binary(max_size=20),
    st.sampled_from(
        [
            b"0",
            b"10",
            b"-1",
            b"1e23",
            b"2147483648",  # past PostgreSQL's INTEGER
            b"9223372036854775808",  # past 64 bits (SQLite)
            b"99999999999999999999999",
            b"true",
            b"accepted",
            b"petition",
            b"2026-01-01",
            b"9999-12-31T23:59-23:00",
            b"0001-01-01T00:00+14:00",
            b"p:01",
        ]
    ),
)


def fill(raw: bytes, hostile: Hostile) -> bytes:
    return raw.replace(SESSION.encode(), hostile.session_id.encode()).replace(
        CODE.encode(), hostile.case_code.encode()
    )


async def sent(
    hostile: Hostile, request: Any, *, may_add: frozenset[str] = frozenset()
) -> tuple[int, Any]:
    """Send and check the invariants: never a 5xx; a refusal has the JSON error shape and
    leaves every table as it was; an accepted request adds at most one row to each of
    `may_add` and nothing elsewhere."""
    before = await hostile.counts()
    status, data = await request
    after = await hostile.counts()
    assert status < 500, (status, data)
    if status >= 400:
        # What was tried shows with --hypothesis-show-statistics.
        event(f"{status} {error_code(status, data)}")
        assert after == before, (status, data)
    else:
        event(f"{status}")
        grown = {name: after[name] - before[name] for name in after}
        assert all(0 <= n <= (1 if name in may_add else 0) for name, n in grown.items()), (
            grown,
            data,
        )
    return status, data


@given(body=dumped(web_messages))
async def test_web_messages_never_fail_nor_half_store(hostile: Hostile, body: bytes) -> None:
    await sent(
        hostile,
        hostile.send("POST", "/api/web/messages", fill(body, hostile)),
        may_add=frozenset({"inbound"}),
    )


@given(
    body=dumped(web_messages), session=st.just(SESSION.encode()) | query_values, after=query_values
)
async def test_web_sessions_and_history_never_fail(
    hostile: Hostile, body: bytes, session: bytes, after: bytes
) -> None:
    status, data = await sent(
        hostile,
        hostile.send("POST", "/api/web/session", body),
        may_add=frozenset({"contacts"}),
    )
    assert status == 200 and isinstance(data["session_id"], str)
    query = encode_query({"session_id": fill(session, hostile), "after": after})
    await sent(hostile, hostile.send("GET", f"/api/web/messages?{query}"))


@given(body=dumped(telegram_updates))
async def test_telegram_updates_never_fail_nor_half_store(hostile: Hostile, body: bytes) -> None:
    await sent(hostile, hostile.telegram(body), may_add=frozenset({"inbound", "contacts"}))


@given(body=dumped(zalo_events), right_app=st.sampled_from([True, True, True, False]))
async def test_signed_zalo_events_never_fail_nor_half_store(
    hostile: Hostile, body: bytes, right_app: bool
) -> None:
    """Correctly signed, with random JSON inside (the app id and time as Zalo puts them)."""
    timestamp = now_ms()
    app_id = ZALO_APP_ID if right_app else "999"
    if body.startswith(b"{") and body.endswith(b"}") and len(body) > 2:
        body = f'{{"app_id":"{app_id}","timestamp":"{timestamp}",'.encode() + body[1:]
    await sent(
        hostile, hostile.zalo(body, app_id, timestamp), may_add=frozenset({"inbound", "contacts"})
    )


@given(
    body=dumped(transitions),
    code=st.just(CODE.encode()) | query_values,
    assign=dumped(assignments),
)
async def test_case_transitions_and_assignments_never_fail_nor_half_store(
    hostile: Hostile, body: bytes, code: bytes, assign: bytes
) -> None:
    path_code = quote_from_bytes(fill(code, hostile), safe="")
    await sent(
        hostile,
        hostile.officer("POST", f"/cases/{path_code}/transition", body),
        may_add=frozenset({"case_events"}),
    )
    await sent(
        hostile,
        hostile.officer("POST", f"/cases/{path_code}/assign", assign),
        may_add=frozenset({"case_events"}),
    )


@given(body=dumped(publications))
async def test_publications_never_fail_nor_half_store(hostile: Hostile, body: bytes) -> None:
    await sent(
        hostile, hostile.officer("POST", "/explanations", body), may_add=frozenset({"explanations"})
    )


@given(
    names=st.lists(
        st.sampled_from(
            ["status", "kind", "agency_id", "overdue", "due_before", "q", "limit", "offset"]
        ),
        max_size=4,
    ),
    values=st.lists(query_values, min_size=4, max_size=4),
    broadcast=query_values,
)
async def test_officer_queries_never_fail(
    hostile: Hostile, names: list[str], values: list[bytes], broadcast: bytes
) -> None:
    query = encode_query({name: values[i] for i, name in enumerate(names)})
    await sent(hostile, hostile.officer("GET", f"/cases?{query}", b""))
    await sent(
        hostile, hostile.officer("GET", f"/broadcasts/{quote_from_bytes(broadcast, safe='')}", b"")
    )
