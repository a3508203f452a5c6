"""Who may do what (bot/domain/permissions.py): the one role × action table, its refusals, and
the copy of it in docs/security.md."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.domain.actors import Actor
from bot.domain.permissions import ALLOWED, Action, allows, require
from bot.domain.roles import Role
from bot.errors import Forbidden

ROOT = Path(__file__).resolve().parents[2]

# The policy, written out by hand: a change to the code table must change this too.
EXPECTED: dict[str, set[str]] = {
    "read_cases": {"admin", "officer", "operator"},
    "change_cases": {"admin", "officer"},
    "assign_cases": {"admin", "officer"},
    "publish": {"admin", "officer"},
    "publish_country_wide": {"admin"},
    "broadcast_again": {"admin", "officer"},
    "read_explanations": {"admin", "officer", "operator"},
    "read_broadcast_reports": {"admin", "officer"},
    "read_gaps": {"admin", "officer"},
    "read_satisfaction": {"admin", "officer"},
    "read_reports": {"admin", "officer"},
    "read_notices": {"admin", "officer", "operator"},
    "read_localities": {"admin", "officer", "operator"},
    "manage_users": {"admin"},
    "handle_conversations": {"admin", "operator"},
    "manage_canned_replies": {"admin", "operator"},
}


def test_the_code_table_is_the_written_policy() -> None:
    table = {action.value: {role.value for role in roles} for action, roles in ALLOWED.items()}
    assert table == EXPECTED
    assert set(ALLOWED) == set(Action), "every action has a row"


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("action", list(Action))
def test_each_cell_allows_or_refuses_with_forbidden_in_vietnamese(
    role: Role, action: Action
) -> None:
    actor = Actor("someone", role, user_id=1, agency_id=1)
    if role.value in EXPECTED[action.value]:
        assert allows(role, action)
        require(actor, action)
        return
    assert not allows(role, action)
    with pytest.raises(Forbidden) as caught:
        require(actor, action)
    assert caught.value.code == "forbidden" and caught.value.http_status == 403
    assert "không được" in caught.value.message, caught.value.message


def test_a_citizen_has_no_staff_permission() -> None:
    citizen = Actor.citizen(contact_id=1, agency_id=1)
    for action in Action:
        assert not allows(None, action)
        with pytest.raises(Forbidden):
            require(citizen, action)


def test_docs_security_shows_the_same_table() -> None:
    text = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    section = text.split("## Who may do what", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    header = next(line for line in section.splitlines() if line.startswith("| action"))
    columns = [cell.strip() for cell in header.strip("|").split("|")]
    roles = [c for c in columns if c in {r.value for r in Role}]
    assert roles == [r.value for r in Role], header
    documented: dict[str, set[str]] = {}
    for row in rows:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        action = re.sub(r"`", "", cells[0])
        marks = cells[-len(roles) :]
        documented[action] = {role for role, mark in zip(roles, marks, strict=True) if mark == "✓"}
    assert documented == EXPECTED, "docs/security.md disagrees with bot/domain/permissions.py"
