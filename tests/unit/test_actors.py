"""Who may see and change which cases (bot/domain/actors.py)."""

from __future__ import annotations

from bot.domain.actors import Actor
from bot.domain.roles import Role


def test_admins_see_every_agency_and_others_only_their_own() -> None:
    admin = Actor("root", Role.ADMIN, user_id=1)
    officer = Actor("canbo", Role.OFFICER, user_id=2, agency_id=7)
    operator = Actor("tongdai", Role.OPERATOR, user_id=3, agency_id=7)
    assert admin.sees_every_agency and admin.may_see(7) and admin.may_see(8)
    assert officer.may_see(7) and not officer.may_see(8)
    assert operator.may_see(7) and not operator.may_see(8) and not operator.sees_every_agency


def test_only_the_citizen_or_an_admin_withdraws() -> None:
    citizen = Actor.citizen(contact_id=42, agency_id=7)
    assert citizen.name == "citizen:42" and citizen.is_citizen and citizen.may_see(7)
    assert citizen.may_withdraw and not citizen.may_see(8)
    assert Actor("root", Role.ADMIN).may_withdraw
    assert not Actor("canbo", Role.OFFICER, agency_id=7).may_withdraw
    assert not Actor("canbo", Role.OFFICER, agency_id=7).is_citizen
