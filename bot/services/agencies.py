"""Agencies: who reaches the agency that runs this assistant, and the admins' list, creation
and editing of agencies (name, contact, the hours their operators answer)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from bot.domain.office_hours import OfficeHours
from bot.errors import InvalidInput, NotFound
from bot.store.agencies import agency_by_slug, every_agency, primary_agency
from bot.store.db import Database
from bot.store.models import Agency

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,79}$")
BAD_HOURS = (
    "Giờ làm việc không hợp lệ: ghi các khoảng giờ theo thứ tự, cách nhau bằng dấu phẩy, "
    "ví dụ 07:30-11:30,13:30-17:00 (để trống: giờ mặc định của hệ thống)."
)


@dataclass(frozen=True, slots=True)
class AgencyInfo:
    """What a citizen needs to reach the agency outside the chat."""

    name: str
    contact: str


async def agency_info(db: Database) -> AgencyInfo | None:
    """How citizens reach the agency that runs this assistant (None before any is set up)."""
    async with db.session() as session:
        try:
            agency = await primary_agency(session)
        except NotFound:
            return None
        return AgencyInfo(name=agency.name, contact=agency.contact)


@dataclass(frozen=True, slots=True)
class AgencyRow:
    """An agency as admins edit it."""

    slug: str
    name: str
    contact: str
    office_hours: str  # "" : the deployment's default hours


@dataclass(frozen=True, slots=True)
class AgencyEdit:
    """What an admin types about an agency (checked by `_checked`)."""

    name: str
    contact: str = ""
    office_hours: str = ""


def _row(agency: Agency) -> AgencyRow:
    return AgencyRow(agency.slug, agency.name, agency.contact, agency.office_hours)


def _checked(edit: AgencyEdit) -> AgencyEdit:
    """Stripped values; a name of 1 to 300 characters, a contact up to 500, hours that
    `OfficeHours.parse` reads (the handoff offer tells citizens these), in Vietnamese."""
    name, contact, hours = edit.name.strip(), edit.contact.strip(), edit.office_hours.strip()
    if not 1 <= len(name) <= 300:
        raise InvalidInput("Tên cơ quan cần từ 1 đến 300 ký tự.", code="invalid_name")
    if len(contact) > 500:
        raise InvalidInput("Thông tin liên hệ dài quá 500 ký tự.", code="invalid_contact")
    if hours:
        if len(hours) > 200:
            raise InvalidInput(BAD_HOURS, code="invalid_office_hours")
        try:
            OfficeHours.parse(hours)
        except ValueError as exc:
            raise InvalidInput(BAD_HOURS, code="invalid_office_hours") from exc
    return AgencyEdit(name, contact, hours)


async def list_agencies(db: Database) -> list[AgencyRow]:
    """Every agency, by name."""
    async with db.session(read_only=True) as session:
        return [_row(a) for a in await every_agency(session)]


async def get_agency(db: Database, slug: str) -> AgencyRow:
    """One agency by slug (404 `agency_not_found`)."""
    async with db.session(read_only=True) as session:
        agency = await agency_by_slug(session, slug)
        if agency is None:
            raise NotFound("Không tìm thấy cơ quan.", code="agency_not_found")
        return _row(agency)


async def create_agency(db: Database, slug: str, edit: AgencyEdit) -> AgencyRow:
    """A new agency; its slug (lower-case letters, digits, dashes) names it for good."""
    slug = slug.strip()
    if not SLUG.match(slug):
        raise InvalidInput(
            "Mã cơ quan gồm 2 đến 80 chữ thường không dấu, chữ số hoặc dấu gạch ngang.",
            code="invalid_slug",
        )
    edit = _checked(edit)
    async with db.session() as session:
        agency = Agency(
            slug=slug, name=edit.name, contact=edit.contact, office_hours=edit.office_hours
        )
        session.add(agency)
        try:
            await session.flush()
        except IntegrityError as exc:  # the slug is taken (or being taken at this moment)
            raise InvalidInput(f"Đã có cơ quan mã {slug}.", code="agency_exists") from exc
        return _row(agency)


async def update_agency(db: Database, slug: str, edit: AgencyEdit) -> AgencyRow:
    """Change an agency's name, contact and office hours (nothing is stored when one is
    wrong)."""
    edit = _checked(edit)
    async with db.session() as session:
        agency = await agency_by_slug(session, slug)
        if agency is None:
            raise NotFound("Không tìm thấy cơ quan.", code="agency_not_found")
        agency.name, agency.contact, agency.office_hours = (
            edit.name,
            edit.contact,
            edit.office_hours,
        )
        return _row(agency)
