"""Open data (Open311 GeoReport v2): reading the cases citizens agreed to publish, and filing
a petition posted by an Open311 client through the same `file_case` as the chat."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select

from bot.domain import codes
from bot.domain.localities import by_code
from bot.domain.open311 import (
    BY_KIND,
    CONSENT_VALUES,
    LOCALITY_ATTRIBUTE,
    MAX_DESCRIPTION,
    PUBLIC_ATTRIBUTE,
    PublicCase,
    RequestFilter,
    coordinate,
    request_document,
    request_filter,
    service,
)
from bot.errors import InvalidInput, NotFound
from bot.services.cases import CaseDraft, FiledCase, file_case
from bot.store.db import Database
from bot.store.models import Agency, Case, utcnow
from bot.store.models.cases import PUBLIC_CASES

CHANNEL = "open311"  # the channel of cases filed through the API (reports group by it)
NOT_PUBLIC = "Không có phản ánh công khai với mã này / no public request with this id."


def _public(case: Case, agency: str) -> PublicCase:
    return PublicCase(
        code=case.code,
        kind=case.kind,
        status=case.status,
        agency=agency,
        content=case.content,
        location=case.location,
        locality=case.locality,
        answer=case.answer,
        refusal_reason=case.refusal_reason,
        created_at=case.created_at,
        updated_at=case.updated_at,
        due_at=case.due_at,
        attachments=tuple(case.attachments or ()),
        requester_name=case.requester_name,
        requester_contact=case.requester_contact,
    )


def _published() -> Any:
    """Public cases of the kinds offered as services: the only rows this module reads."""
    return (
        select(Case, Agency.name)
        .join(Agency, Agency.id == Case.agency_id)
        .where(PUBLIC_CASES, Case.kind.in_(list(BY_KIND)))
    )


async def public_requests(db: Database, f: RequestFilter) -> list[dict[str, Any]]:
    """requests.json: the public cases matching the filters, newest first, at most f.limit."""
    query = _published()
    if f.by_codes:
        query = query.where(Case.code.in_(f.codes))
    else:
        if f.kinds:
            query = query.where(Case.kind.in_(f.kinds))
        if f.statuses:
            query = query.where(Case.status.in_(f.statuses))
        if f.start is not None:
            query = query.where(Case.created_at >= f.start)
        if f.end is not None:
            query = query.where(Case.created_at <= f.end)
    query = query.order_by(Case.created_at.desc(), Case.id.desc()).limit(f.limit)
    async with db.session() as session:
        rows = (await session.execute(query)).all()
    return [request_document(_public(case, agency)) for case, agency in rows]


async def find_requests(
    db: Database, query: Mapping[str, str], now: datetime | None = None
) -> list[dict[str, Any]]:
    """requests.json as queried: the filters checked (400 naming the wrong one), then
    `public_requests`."""
    return await public_requests(db, request_filter(dict(query), now or utcnow()))


async def public_request(db: Database, code_text: str) -> dict[str, Any]:
    """requests/{id}.json: one public case; 404 alike for an unknown and a private one."""
    code = codes.parse(code_text)
    if code is not None:
        async with db.session() as session:
            row = (await session.execute(_published().where(Case.code == code))).first()
        if row is not None:
            return request_document(_public(row[0], row[1]))
    raise NotFound(NOT_PUBLIC, code="request_not_found")


# Lengths the case columns hold (cases.location, requester_name, requester_contact).
MAX_LOCATION, MAX_NAME, MAX_CONTACT = 300, 200, 300


def _text(fields: Mapping[str, str], name: str, limit: int) -> str:
    value = " ".join(fields.get(name, "").split())
    if len(value) > limit:
        raise InvalidInput(f"{name} dài quá {limit} ký tự / {name} is too long.", code="too_long")
    return value


def draft_from_post(fields: Mapping[str, str]) -> CaseDraft:
    """The petition an Open311 POST describes, checked (400 naming the field): service_code,
    description, a location (address_string and/or lat and long), attribute[public] yes or
    no; optional attribute[locality], media_url (a private reference), and the requester's
    first_name, last_name, phone and email (stored as the case's requester, never
    published)."""
    svc = service(fields.get("service_code", "").strip())
    description = fields.get("description", "").strip()
    if not description:
        raise InvalidInput("Thiếu description / description is required.", code="invalid_body")
    if len(description) > MAX_DESCRIPTION:
        raise InvalidInput(
            f"description dài quá {MAX_DESCRIPTION} ký tự / description is too long.",
            code="too_long",
        )
    consent = fields.get(f"attribute[{PUBLIC_ATTRIBUTE}]", "").strip().lower()
    if consent not in CONSENT_VALUES:
        raise InvalidInput(
            f"attribute[{PUBLIC_ATTRIBUTE}] phải là yes hoặc no / must be yes or no.",
            code="consent_required",
        )
    address = _text(fields, "address_string", MAX_LOCATION)
    lat, lon = fields.get("lat", "").strip(), fields.get("long", "").strip()
    attachments: list[dict[str, Any]] = []
    if lat or lon:
        attachments.append(
            {
                "type": "location",
                "latitude": coordinate("lat", lat, 90),
                "longitude": coordinate("long", lon, 180),
            }
        )
    if not address and not attachments:
        raise InvalidInput(
            "Cần address_string hoặc lat và long / a location is required "
            "(address_string, or lat and long).",
            code="invalid_location",
        )
    locality = fields.get(f"attribute[{LOCALITY_ATTRIBUTE}]", "").strip()
    if locality and by_code(locality) is None:
        raise InvalidInput(
            f"Không có địa bàn {locality} / unknown locality.", code="invalid_locality"
        )
    media = _text(fields, "media_url", 2000)
    if media:
        attachments.append({"type": "image", "url": media})
    name = " ".join(
        p for p in (_text(fields, "last_name", 100), _text(fields, "first_name", 100)) if p
    )
    contact = ", ".join(p for p in (_text(fields, "phone", 40), _text(fields, "email", 200)) if p)
    return CaseDraft(
        kind=svc.kind,
        content=description,
        location=address,
        locality=locality,
        attachments=tuple(attachments),
        requester_name=name[:MAX_NAME],
        requester_contact=contact[:MAX_CONTACT],
        # The client app asked the citizen for these to pass them to the agency: giving them
        # is the consent to store them (docs/security.md).
        consent=bool(name or contact),
        public=CONSENT_VALUES[consent],
        channel=CHANNEL,
    )


async def file_request(
    db: Database,
    fields: Mapping[str, str],
    petition_days: int,
    client: str,
    now: datetime | None = None,
) -> FiledCase:
    """POST requests.json: file the petition as chat does (stored first, deadline rules);
    `client` names the key's app in the audit trail."""
    draft = draft_from_post(fields)
    return await file_case(db, draft, None, petition_days, now=now, filed_by=f"open311:{client}")
