"""Publishing routes of the agencies' REST API (/api/v1/explanations, broadcasts), and the
publication body they share with `giaitrinh explanation publish`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from aiohttp import web
from pydantic import (
    BaseModel,
    Field,
    StrictStr,
    StringConstraints,
    field_validator,
)

from bot.domain.deadlines import vietnam_time
from bot.domain.explanations import example_questions
from bot.domain.localities import COUNTRY, by_code
from bot.domain.permissions import Action
from bot.errors import InvalidInput
from bot.gateway import DB, json_response, read_json, validated
from bot.services import broadcasts, explanations
from bot.services.explanations import ExplanationSpec
from bot.web.audit import TARGET
from bot.web.params import actor, number

# A JSON string (nothing converted into one), stripped before its length is checked.
Text = Annotated[StrictStr, StringConstraints(strip_whitespace=True)]
Codes = Annotated[list[StrictStr], Field(strict=True)]  # a list of strings, nothing else


class ExplanationBody(BaseModel):
    """What an officer sends to publish, as JSON (API) or YAML front matter (CLI); unknown
    keys are ignored. Fields are checked in this order, and the domain checks (a known
    locality, a readable time) stop at the first problem with their own code, as before."""

    localities: Codes = [COUNTRY]
    publish_at: datetime | None = None
    title: Text = Field(min_length=1, max_length=300)
    body: Text = Field(min_length=1, max_length=50_000)
    summary: Text = Field("", max_length=1000)
    source_document: Text = Field("", max_length=300)
    source_url: Text = Field("", max_length=500)
    topics: Codes = []
    slug: Text = Field("", max_length=120)
    # The publishing agency's slug: an admin names it; an officer publishes for their own.
    agency: Text = Field("", max_length=80)
    # The typical questions it answers; left out, a new version keeps the current one's.
    questions: Codes | None = None

    @field_validator("localities")
    @classmethod
    def _known_localities(cls, codes: list[str]) -> list[str]:
        """Each code once, in order; none means the whole country; an unknown one is
        refused (400 invalid_locality)."""
        unique = list(dict.fromkeys(codes)) or [COUNTRY]
        for code in unique:
            if code != COUNTRY and by_code(code) is None:
                raise InvalidInput(f"Unknown locality {code!r}.", code="invalid_locality")
        return unique

    @field_validator("topics")
    @classmethod
    def _once_each(cls, codes: list[str]) -> list[str]:
        """Each topic once, in order (whether they exist is the service's check)."""
        return list(dict.fromkeys(codes))

    @field_validator("questions")
    @classmethod
    def _questions(cls, questions: list[str] | None) -> list[str] | None:
        """Checked by the domain (400 invalid_questions)."""
        return None if questions is None else list(example_questions(questions))

    @field_validator("publish_at", mode="before")
    @classmethod
    def _moment(cls, value: Any) -> datetime | None:
        """ISO 8601 (or a YAML timestamp), in UTC; without an offset it is Vietnam time.
        Anything else is refused (400 invalid_publish_at)."""
        if value is None or value == "":
            return None
        moment: datetime
        if isinstance(value, str):
            try:
                moment = datetime.fromisoformat(value.strip())
            except ValueError as exc:
                raise InvalidInput(
                    "'publish_at' must be a date and time such as 2026-12-01T08:00+07:00.",
                    code="invalid_publish_at",
                ) from exc
        elif isinstance(value, datetime):
            moment = value
        else:
            raise InvalidInput("'publish_at' must be a date and time.", code="invalid_publish_at")
        return vietnam_time(moment).astimezone(UTC)

    def to_spec(self) -> ExplanationSpec:
        """The publication the service takes."""
        return ExplanationSpec(
            title=self.title,
            body=self.body,
            summary=self.summary,
            source_document=self.source_document,
            source_url=self.source_url,
            topics=tuple(self.topics),
            localities=tuple(self.localities),
            slug=self.slug,
            publish_at=self.publish_at,
            agency=self.agency,
            questions=None if self.questions is None else tuple(self.questions),
        )


def explanation_spec(data: dict[str, Any]) -> ExplanationSpec:
    """A file's front matter (`giaitrinh explanation publish`) checked like an API body:
    the same model, codes and messages as `read_json`."""
    return validated(ExplanationBody, data).to_spec()


async def publish_explanation(request: web.Request) -> web.Response:
    """POST /api/v1/explanations: publish (or publish a new version) and plan the broadcast."""
    caller = await actor(request, Action.PUBLISH)
    body = await read_json(request, ExplanationBody)
    published = await explanations.publish(request.app[DB], body.to_spec(), caller)
    request[TARGET] = published.slug
    return json_response(published.as_json(), status=201)


async def send_broadcast(request: web.Request) -> web.Response:
    """POST /api/v1/explanations/{slug}/broadcasts: send the current version again, to the
    matching subscribers who have not received it (e.g. after new subscriptions)."""
    caller = await actor(request, Action.BROADCAST_AGAIN)
    published = await explanations.send_again(request.app[DB], request.match_info["slug"], caller)
    return json_response(published.as_json(), status=201)


async def get_explanation(request: web.Request) -> web.Response:
    """GET /api/v1/explanations/{slug}[/versions/{version}]"""
    caller = await actor(request, Action.READ_EXPLANATIONS)
    version = request.match_info.get("version")
    body = await explanations.get_version(
        request.app[DB],
        request.match_info["slug"],
        number(version, 0) if version else None,
        viewer=caller,
    )
    return json_response(body)


async def broadcast_report(request: web.Request) -> web.Response:
    """GET /api/v1/broadcasts/{id}: pending, sent, failed by reason, blocked, timestamps."""
    caller = await actor(request, Action.READ_BROADCAST_REPORTS)
    broadcast_id = number(request.match_info["id"], 0)
    report = await broadcasts.broadcast_report(request.app[DB], broadcast_id, caller)
    return json_response(report.as_json())


def setup(app: web.Application) -> None:
    """Mount the publishing routes."""
    app.router.add_post("/api/v1/explanations", publish_explanation)
    app.router.add_post("/api/v1/explanations/{slug}/broadcasts", send_broadcast)
    app.router.add_get("/api/v1/explanations/{slug}", get_explanation)
    app.router.add_get("/api/v1/explanations/{slug}/versions/{version}", get_explanation)
    app.router.add_get("/api/v1/broadcasts/{id}", broadcast_report)
