"""Which kind of Zalo message a delivery goes as, the template it becomes, quota months and
what a deferral means for a delivery (pure: no network, no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.channels import (
    Button,
    Card,
    Category,
    DeferReason,
    DeliveryOutcome,
    OutboundMessage,
    Recipient,
    defer_reason,
    deferred,
)
from bot.domain.case_texts import case_update_card
from bot.domain.cases import Kind, Status
from bot.domain.delivery import (
    WHEN_THEY_WRITE,
    DeliveryKind,
    DeliveryStatus,
    decide,
    deferred_until,
)
from bot.domain.quota import period
from bot.settings import Settings
from connectors.zalo import kinds
from connectors.zalo.events import receipt

NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def recipient(hours_ago: float, sent: int = 0) -> Recipient:
    return Recipient("zalo", "u1", NOW - timedelta(hours=hours_ago), sent, "msg-1")


def message(category: Category) -> OutboundMessage:
    return OutboundMessage("Tin", category=category)


@pytest.mark.parametrize("category", list(Category))
def test_inside_the_window_everything_is_a_free_reply(category: Category) -> None:
    route = kinds.route(recipient(47), message(category), settings(), NOW)
    assert route.kind == kinds.CS and route.quota is None and route.defer is None


def test_the_ninth_message_or_one_after_48_hours_is_outside_the_window() -> None:
    assert kinds.route(recipient(1, sent=8), message(Category.CONVERSATION), settings(), NOW).defer
    late = kinds.route(recipient(49), message(Category.CONVERSATION), settings(), NOW)
    assert late.defer is not None and late.defer.outcome is DeliveryOutcome.DEFERRED
    assert defer_reason(late.defer.reason) == "window", late.defer.reason


def test_outside_the_window_updates_are_transactions_and_news_promotions_with_a_reserve() -> None:
    s = settings(zalo_quota_month=1000, zalo_quota_reserve=100)
    update = kinds.route(recipient(72), message(Category.TRANSACTION), s, NOW)
    news = kinds.route(recipient(72), message(Category.PROMOTION), s, NOW)
    assert update.kind == kinds.TRANSACTION and news.kind == kinds.PROMOTION
    assert update.quota is not None and news.quota is not None
    assert update.quota.pool == news.quota.pool == kinds.QUOTA_POOL, "one monthly quota"
    assert (update.quota.limit, update.quota.keep) == (1000, 0), "updates may use it all"
    assert (news.quota.limit, news.quota.keep) == (1000, 100), "news leaves the reserve"


def test_a_kind_the_oa_may_not_send_is_deferred_with_that_reason() -> None:
    s = settings(zalo_message_kinds="transaction")
    news = kinds.route(recipient(72), message(Category.PROMOTION), s, NOW)
    assert news.defer is not None and news.defer.reason.startswith("kind_disabled:")
    assert kinds.route(recipient(72), message(Category.TRANSACTION), s, NOW).kind == "transaction"


def test_a_case_update_card_becomes_a_transaction_template_within_zalos_limits() -> None:
    due = datetime(2026, 12, 10, 10, tzinfo=UTC)
    card = case_update_card("Q428VYAM4", Status.ACCEPTED, due, kind=Kind.EXPLANATION)
    body = kinds.template(
        kinds.TRANSACTION, OutboundMessage("x", card=card), settings(zalo_banner_url="https://b")
    )
    payload = body["attachment"]["payload"]
    assert payload["template_type"] == "transaction_event" and payload["language"] == "VI"
    types = [e["type"] for e in payload["elements"]]
    assert types == ["banner", "header", "table", "text"], types
    rows = next(e["content"] for e in payload["elements"] if e["type"] == "table")
    assert rows == [
        {"key": "Mã hồ sơ", "value": "Q428-VYAM4"},
        {"key": "Trạng thái", "value": "Đã tiếp nhận, chờ cơ quan trả lời"},
        {"key": "Hạn trả lời", "value": "10/12/2026"},
    ]
    [button] = payload["buttons"]
    assert button == {
        "title": "Xem hồ sơ",
        "type": "oa.query.show",
        "payload": '/check_status{"case_code":"Q428-VYAM4"}',
    }


def test_long_parts_are_cut_to_the_template_limits_never_refused() -> None:
    card = Card(
        title="T" * 300,
        lines=("đoạn " * 400,),
        rows=tuple((f"khóa rất dài số {n} " * 3, "v" * 300) for n in range(9)),
        buttons=tuple(Button("nút có tiêu đề rất dài " * 3, "/x") for _ in range(6)),
    )
    payload = kinds.template(kinds.PROMOTION, OutboundMessage("x", card=card), settings())[
        "attachment"
    ]["payload"]
    assert payload["template_type"] == "promotion" and "language" not in payload
    header = payload["elements"][0]["content"]
    assert len(header) == kinds.MAX_HEADER and header.endswith("…")
    text = payload["elements"][1]["content"]
    assert len(text) <= kinds.MAX_TEXT_ELEMENT
    rows = payload["elements"][2]["content"]
    assert len(rows) == kinds.MAX_ROWS
    assert all(len(r["key"]) <= kinds.MAX_KEY and len(r["value"]) <= kinds.MAX_VALUE for r in rows)
    assert len(payload["buttons"]) == kinds.MAX_TEMPLATE_BUTTONS
    assert all(len(b["title"]) <= kinds.MAX_BUTTON_TITLE for b in payload["buttons"])


def test_a_message_without_a_card_is_laid_out_from_its_text() -> None:
    text = "Tiêu đề\n\nĐoạn một.\n\nĐoạn hai."
    payload = kinds.template(kinds.PROMOTION, OutboundMessage(text), settings())["attachment"][
        "payload"
    ]
    assert payload["elements"] == [
        {"type": "header", "content": "Tiêu đề", "align": "left"},
        {"type": "text", "content": "Đoạn một.<br>Đoạn hai.", "align": "left"},
    ]


def test_a_follow_link_id_is_never_quoted() -> None:
    assert kinds.quotable("a1b2") == "a1b2"
    assert kinds.quotable("follow:u1:123") is None and kinds.quotable(None) is None


def test_cards_survive_storage() -> None:
    card = Card("T", ("a", "b"), (("k", "v"),), "cuối", (Button("B", "/p"),))
    assert Card.from_json(card.as_json()) == card
    assert Card.from_json(None) is None


@pytest.mark.parametrize(
    ("now", "key", "resets"),
    [
        # 23:59 on 30 Nov in Hà Nội is 16:59 UTC; the next minute is December there.
        (datetime(2026, 11, 30, 16, 59, tzinfo=UTC), "2026-11", datetime(2026, 11, 30, 17, 0)),
        (datetime(2026, 11, 30, 17, 0, tzinfo=UTC), "2026-12", datetime(2026, 12, 31, 17, 0)),
        (datetime(2026, 12, 31, 17, 30, tzinfo=UTC), "2027-01", datetime(2027, 1, 31, 17, 0)),
    ],
)
def test_quota_months_follow_vietnam_time(now: datetime, key: str, resets: datetime) -> None:
    term = period(now)
    assert term.key == key and term.resets_at == resets.replace(tzinfo=UTC)


@pytest.mark.parametrize("kind", list(DeliveryKind))
def test_a_deferral_is_kept_not_failed(kind: DeliveryKind) -> None:
    decision = decide(deferred(DeferReason.QUOTA, "spent"), kind, attempts=3)
    assert decision.status is DeliveryStatus.DEFERRED and not decision.unreachable


def test_a_spent_quota_waits_for_the_next_month_anything_else_for_the_citizen() -> None:
    assert deferred_until("quota: spent", NOW) == period(NOW).resets_at
    assert deferred_until("window: closed", NOW) == WHEN_THEY_WRITE
    assert deferred_until("kind_disabled: promotion", NOW) == WHEN_THEY_WRITE


def test_receipt_events_name_the_messages_they_concern() -> None:
    assert receipt({"event_name": "user_received_message", "message": {"msg_id": "a"}}) == (
        False,
        ["a"],
    )
    seen = {"event_name": "user_seen_message", "message": {"msg_ids": ["b", "a", "b"]}}
    assert receipt(seen) == (True, ["a", "b"])
    assert receipt({"event_name": "follow"}) is None
    with pytest.raises(ValueError):
        receipt({"event_name": "user_seen_message", "message": {"msg_ids": "a"}})
