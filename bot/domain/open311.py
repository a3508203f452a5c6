"""Open data as Open311 GeoReport v2: which of our cases are services, how our statuses read
as Open311's two, and what of a public case is published (never personal data).

Pure: the service layer hands over a `PublicCase` (plain values), this module decides the
document. The spec: http://wiki.open311.org/GeoReport_v2.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.domain import codes
from bot.domain.case_texts import format_due
from bot.domain.cases import OPEN_STATUSES, Kind, Status, status_label
from bot.domain.deadlines import VN_TZ, vietnam_time
from bot.domain.localities import by_code
from bot.domain.redaction import redact, redact_email
from bot.errors import InvalidInput

EMAIL = "[thư điện tử]"
NAME = "[người gửi]"
# The attributes of a petition's service definition (their `code` is what a client posts
# as attribute[<code>]).
PUBLIC_ATTRIBUTE = "public"
LOCALITY_ATTRIBUTE = "locality"
CONSENT_VALUES = {"yes": True, "no": False}

MAX_RESULTS = 1000  # requests.json answers at most this many, newest first
WINDOW = timedelta(days=90)  # the default (and widest) period of requests.json
MAX_IDS = 1000
MAX_DESCRIPTION = 4000  # the spec's limit of a request's description


@dataclass(frozen=True, slots=True)
class Service:
    """One Open311 service: a kind of case that the public may see and file."""

    code: str
    kind: Kind
    name: str
    description: str
    group: str
    keywords: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        """An entry of services.json."""
        return {
            "service_code": self.code,
            "service_name": self.name,
            "description": self.description,
            "metadata": True,
            "type": "realtime",
            "keywords": ",".join(self.keywords),
            "group": self.group,
        }


# Explanation requests are not exposed: they concern an agency's decision about the requester
# (their land, their permit), so even without a name the text points at a person, and the
# law does not accept them anonymously. Petitions are about public things: a flooded road,
# a broken street light.
PETITION = Service(
    code="phan-anh",
    kind=Kind.PETITION,
    name="Phản ánh, kiến nghị",
    description=(
        "Phản ánh, kiến nghị về hạ tầng, môi trường, trật tự đô thị và dịch vụ công "
        "(đường ngập, đèn đường hỏng, rác thải...). Cơ quan xử lý và trả lời trong "
        "thời hạn quy định."
    ),
    group="Phản ánh, kiến nghị",
    keywords=("phản ánh", "kiến nghị", "hạ tầng", "môi trường", "đô thị"),
)
SERVICES: dict[str, Service] = {PETITION.code: PETITION}
BY_KIND: dict[Kind, Service] = {s.kind: s for s in SERVICES.values()}


def service(code: str) -> Service:
    """The service of a posted or filtered code; 400 `unknown_service` for one we do not
    offer (explanation requests among them)."""
    found = SERVICES.get(code)
    if found is None:
        raise InvalidInput(
            f"Không có dịch vụ này / unknown service_code: {code}", code="unknown_service"
        )
    return found


def definition(svc: Service) -> dict[str, Any]:
    """services/{code}.json: the attributes a client asks the citizen for."""
    return {
        "service_code": svc.code,
        "attributes": [
            {
                "variable": True,
                "code": PUBLIC_ATTRIBUTE,
                "datatype": "singlevaluelist",
                "required": True,
                "datatype_description": "Đồng ý công khai / Consent to publish",
                "order": 1,
                "description": (
                    "Anh/chị có đồng ý công khai phản ánh này (nội dung, địa điểm, tình trạng "
                    "và trả lời của cơ quan; không kèm họ tên, số điện thoại, thư điện tử) "
                    "không? / May this request be published, without personal data?"
                ),
                "values": [
                    {"key": "yes", "name": "Đồng ý công khai"},
                    {"key": "no", "name": "Không công khai"},
                ],
            },
            {
                "variable": True,
                "code": LOCALITY_ATTRIBUTE,
                "datatype": "string",
                "required": False,
                "datatype_description": "w:<mã xã/phường> hoặc p:<mã tỉnh> (/api/v1/localities)",
                "order": 2,
                "description": "Mã xã, phường hoặc tỉnh nơi xảy ra sự việc / Locality code",
            },
        ],
    }


# Open311 knows two statuses. A case is open while the agency still owes the citizen a
# decision or an answer; closed once it answered, refused, closed or the citizen withdrew.
OPEN311_STATUS: dict[Status, str] = {
    status: ("open" if status in OPEN_STATUSES else "closed") for status in Status
}


@dataclass(frozen=True, slots=True)
class PublicCase:
    """What the service layer reads of a public case (personal fields only to hide them)."""

    code: str
    kind: Kind
    status: Status
    agency: str
    content: str
    location: str
    locality: str
    answer: str
    refusal_reason: str
    created_at: datetime
    updated_at: datetime
    due_at: datetime | None
    attachments: tuple[Any, ...] = ()
    # Never published: removed from the texts when the citizen typed them there.
    requester_name: str = ""
    requester_contact: str = ""


def scrub(text: str, known: tuple[str, ...] = ()) -> str:
    """A citizen's or an officer's text fit to publish: phone and ID numbers, e-mail
    addresses, and the requester's own name and contact details (when given) hidden."""
    for value in sorted({k.strip() for k in known if len(k.strip()) >= 3}, key=len, reverse=True):
        text = re.sub(re.escape(value), NAME, text, flags=re.IGNORECASE)
    return redact(redact_email(text, EMAIL))


def _when(moment: datetime) -> str:
    """W3C date-time in Vietnam time, to the second: 2026-11-26T09:30:00+07:00."""
    return moment.astimezone(VN_TZ).replace(microsecond=0).isoformat()


def _coordinates(attachments: tuple[Any, ...]) -> tuple[float, float] | None:
    """The first location the citizen shared, if any."""
    for item in attachments:
        if isinstance(item, dict) and item.get("type") == "location":
            lat, lon = item.get("latitude"), item.get("longitude")
            if isinstance(lat, int | float) and isinstance(lon, int | float):
                return float(lat), float(lon)
    return None


def address(location: str, locality: str) -> str:
    """The place as people read it: what the citizen wrote, then the commune and province."""
    place = by_code(locality) if locality else None
    parts = [location.strip()] if location.strip() else []
    if place is not None:
        parts.append(place.label)
    return ", ".join(parts)


def status_notes(case: PublicCase) -> str:
    """The agency's answer, the reason of a refusal, or where the case stands."""
    if case.answer:
        return case.answer
    if case.refusal_reason:  # refused, and closed after it
        return case.refusal_reason
    return status_label(case.kind, case.status)


def request_document(case: PublicCase) -> dict[str, Any]:
    """One request of requests.json: the case as published, without personal data."""
    svc = BY_KIND[case.kind]
    known = (case.requester_name, *re.split(r"[,;]", case.requester_contact))
    doc: dict[str, Any] = {
        "service_request_id": codes.display(case.code),
        "status": OPEN311_STATUS[case.status],
        "status_notes": scrub(status_notes(case), known),
        "service_name": svc.name,
        "service_code": svc.code,
        "description": scrub(case.content, known),
        "agency_responsible": case.agency,
        "service_notice": status_label(case.kind, case.status),
        "requested_datetime": _when(case.created_at),
        "updated_datetime": _when(case.updated_at),
        "address": scrub(address(case.location, case.locality), known),
    }
    if case.due_at is not None and case.status in OPEN_STATUSES:
        doc["expected_datetime"] = _when(case.due_at)
    point = _coordinates(case.attachments)
    if point is not None:
        doc["lat"], doc["long"] = point
    return doc


@dataclass(frozen=True, slots=True)
class RequestFilter:
    """requests.json's filters, checked: by codes (which overrides the rest), or by service,
    period (at most 90 days) and status."""

    codes: tuple[str, ...] = ()
    by_codes: bool = False  # ids were given: only those (none valid: nothing)
    kinds: tuple[Kind, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    statuses: tuple[Status, ...] = ()
    limit: int = MAX_RESULTS


def _moment(name: str, value: str) -> datetime:
    try:
        return vietnam_time(datetime.fromisoformat(value.strip().replace("Z", "+00:00")))
    except ValueError as exc:
        raise InvalidInput(
            f"{name} không đúng định dạng ISO 8601 / {name} is not a W3C date-time "
            f"(e.g. 2026-01-01T00:00:00Z): {value}",
            code="invalid_date",
        ) from exc


def _listed(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def request_filter(query: dict[str, str], now: datetime) -> RequestFilter:
    """The filters of a requests.json query, or 400 naming the wrong one."""
    ids = _listed(query.get("service_request_id"))
    if ids:
        if len(ids) > MAX_IDS:
            raise InvalidInput(
                f"Tối đa {MAX_IDS} mã / at most {MAX_IDS} service_request_id.",
                code="invalid_filter",
            )
        parsed = [codes.parse(i) for i in ids]
        return RequestFilter(codes=tuple(dict.fromkeys(c for c in parsed if c)), by_codes=True)
    kinds = tuple(dict.fromkeys(service(c).kind for c in _listed(query.get("service_code"))))
    statuses: list[Status] = []
    for name in _listed(query.get("status")):
        if name not in ("open", "closed"):
            raise InvalidInput(
                f"status phải là open hoặc closed / status must be open or closed: {name}",
                code="invalid_filter",
            )
        statuses += [s for s, o in OPEN311_STATUS.items() if o == name]
    start = _moment("start_date", query["start_date"]) if query.get("start_date") else None
    end = _moment("end_date", query["end_date"]) if query.get("end_date") else None
    if start is None and end is None:
        end = now
    if start is None:
        assert end is not None
        start = end - WINDOW
    if end is None:
        end = start + WINDOW
    if start > end:
        raise InvalidInput(
            "start_date sau end_date / start_date is after end_date.", code="invalid_period"
        )
    if end - start > WINDOW:
        raise InvalidInput(
            "Khoảng thời gian tối đa 90 ngày / the period may not span more than 90 days.",
            code="invalid_period",
        )
    return RequestFilter(kinds=kinds, start=start, end=end, statuses=tuple(dict.fromkeys(statuses)))


def filed_notice(due_at: datetime | None) -> str:
    """The service_notice of a POST's answer: received, and by when the agency answers."""
    when = f", hạn trả lời {format_due(due_at)}" if due_at is not None else ""
    return f"Đã nhận phản ánh; cơ quan xử lý và trả lời trong thời hạn quy định{when}."


def coordinate(name: str, value: str, bound: float) -> float:
    """A latitude or longitude as posted; 400 when not a number within ±bound."""
    try:
        number = float(value)
    except ValueError as exc:
        raise InvalidInput(
            f"{name} không phải là số / {name} is not a number: {value}",
            code="invalid_location",
        ) from exc
    if not math.isfinite(number) or abs(number) > bound:
        raise InvalidInput(
            f"{name} ngoài phạm vi / {name} is out of range: {value}", code="invalid_location"
        )
    return number
