"""The outbox names contacts, cases, broadcasts and messages without foreign keys (a per-row
trigger each on PostgreSQL, bot/store/models/outbox.py): it stays whole because no code
deletes those rows. This test keeps it so; privacy erasure redacts them instead."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The models (and tables) a delivery refers to.
REFERRED = {
    "Contact": "contacts",
    "Case": "cases",
    "Broadcast": "broadcasts",
    "Message": "messages",
}
RAW_DELETE = re.compile(
    r"\bDELETE\s+FROM\s+(" + "|".join(REFERRED.values()) + r")\b", re.IGNORECASE
)


def deletions(source: str) -> list[str]:
    """What in this source deletes rows a delivery may name: delete(Model) or DELETE FROM in
    SQL text (session.delete(row) is used for canned replies only: grep before adding one)."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            first = node.args[0] if node.args else None
            if name == "delete" and isinstance(first, ast.Name) and first.id in REFERRED:
                found.append(f"delete({first.id}) at line {node.lineno}")
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if raw := RAW_DELETE.search(node.value):
                found.append(f"SQL {raw.group(0)!r} at line {node.lineno}")
    return found


def test_the_check_sees_a_deletion() -> None:
    assert deletions("await s.execute(delete(Contact).where(Contact.id == 1))")
    assert deletions("await s.execute(text('delete from  messages where id = 1'))")
    assert not deletions("await s.execute(delete(Subscription).where(Subscription.id == 1))")


def test_no_code_deletes_a_row_that_a_delivery_names() -> None:
    found = {
        str(path.relative_to(ROOT)): hits
        for folder in ("bot", "connectors", "actions", "scripts")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if "migrations" not in path.parts and (hits := deletions(path.read_text()))
    }
    assert found == {}, (
        "deliveries have no foreign keys: delete or redact their deliveries in the same "
        f"transaction, and change this test, before deleting these rows: {found}"
    )
