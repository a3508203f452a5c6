"""What a database error says when it is logged: the statement, never the values."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from bot.domain.messages import Direction, MessageStatus
from bot.store.db import Database
from bot.store.models import Message

PHONE = "0912345678"


async def test_a_database_error_names_the_statement_but_not_the_citizens_data(
    database_url: str,
) -> None:
    db = Database(database_url)
    try:
        with pytest.raises(IntegrityError) as caught:  # no such conversation
            async with db.session() as session:
                session.add(
                    Message(
                        conversation_id=987654,
                        direction=Direction.IN,
                        channel="telegram",
                        text=f"Số điện thoại của tôi là {PHONE}",
                        status=MessageStatus.PENDING,
                    )
                )
    finally:
        await db.dispose()
    said = str(caught.value)
    assert "INSERT INTO messages" in said, said
    assert PHONE not in said, said
