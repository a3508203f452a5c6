"""Choosing places by name: a search box (htmx) that lists provinces and communes with their
province ("Xã Tân An — Tỉnh Nghệ An", so communes of one name are told apart), and the chosen
ones as removable chips holding hidden inputs. The server keeps the list: each pick or removal
sends the chips held so far and gets them back checked (known codes, each once; "Toàn quốc"
only for those allowed to send to the whole country)."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from bot.domain.localities import COUNTRY, by_code, search
from bot.domain.permissions import Action
from bot.web.console.render import render
from bot.web.console.session import Staff, require_staff

MAX_RESULTS = 12
MAX_QUERY = 100
COUNTRY_LABEL = "Toàn quốc"
# The field the chips fill: several places for a publication, one for a filter.
MANY, ONE = "localities", "dia-ban"


@dataclass(frozen=True, slots=True)
class Place:
    """A chosen or found place: its code and how staff read it."""

    code: str
    label: str


def place(code: str, staff: Staff) -> Place | None:
    """A code as a chip (None for an unknown code, or "country" for those who may not)."""
    if code == COUNTRY:
        return Place(code, COUNTRY_LABEL) if staff.may(Action.PUBLISH_COUNTRY_WIDE) else None
    found = by_code(code)
    if found is None:
        return None
    label = found.province_title if found.level == 1 else f"{found.name} — {found.province_title}"
    return Place(code, label)


def chips(codes: list[str], staff: Staff) -> list[Place]:
    """The chosen places, each once, in order, unknown ones dropped."""
    out = [place(code, staff) for code in dict.fromkeys(codes)]
    return [p for p in out if p is not None]


async def find_places(request: web.Request) -> web.Response:
    """GET /console/dia-ban?q=tân an[&mot=1] (htmx): the places of that name, as buttons."""
    staff = await require_staff(request, Action.READ_LOCALITIES)
    query = request.query.get("q", "").strip()[:MAX_QUERY]
    found = [place(loc.code, staff) for loc in search(query, MAX_RESULTS)] if query else []
    context = {
        "found": [p for p in found if p is not None],
        "query": query,
        "one": bool(request.query.get("mot")),
    }
    return render(request, "place_results.html", context)


async def choose_places(request: web.Request) -> web.Response:
    """GET /console/dia-ban/chon?localities=…&them=<code>&bo=<code>[&mot=1] (htmx): the chips
    after adding `them` and removing `bo` (with `mot`, `them` replaces the one chosen)."""
    staff = await require_staff(request, Action.READ_LOCALITIES)
    one = bool(request.query.get("mot"))
    field = ONE if one else MANY
    codes = list(request.query.getall(field, []))
    added, removed = request.query.get("them", ""), request.query.get("bo", "")
    if added:
        codes = [added] if one else [*codes, added]
    codes = [c for c in codes if c != removed]
    context = {"chosen": chips(codes, staff), "one": one, "cleared": True}
    return render(request, "place_chips.html", context)


def setup(console: web.Application) -> None:
    """Mount the place search."""
    console.router.add_get("/dia-ban", find_places)
    console.router.add_get("/dia-ban/chon", choose_places)
