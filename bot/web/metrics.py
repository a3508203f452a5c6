"""GET /metrics in Prometheus' text format: the metrics port (bot/metrics.py) implemented
with prometheus-client, plus gauges read at each scrape (the backlog from the database, the
background loops of this process).

Each app has its own CollectorRegistry (never the library's global one), so several apps in
one process (the tests) count apart. Access: with `metrics_token` set, a bearer token;
without it, only a direct request from this host (a loopback peer and no forwarding header:
the load balancer adds X-Forwarded-For, so nothing from outside gets through it).
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Iterable
from datetime import UTC, datetime

from aiohttp import web
from aiohttp.typedefs import Middleware
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
)
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest

from bot.channels import DeliveryOutcome
from bot.domain.delivery import DeliveryKind, DeliveryStatus
from bot.domain.handoff import OPEN as OPEN_HANDOFFS
from bot.errors import Forbidden
from bot.gateway import DB, LOOPS, SETTINGS, same_secret
from bot.metrics import EngineOutcome, Inbound
from bot.services.backlog import backlog
from bot.web.errors import Handler

# Engine turns take from a few tens of milliseconds to the gateway's wait: the engine's
# timeout (GIAITRINH_ENGINE_TIMEOUT, 15 s by default) plus 5 s.
ENGINE_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 40.0)
# Outbox gauges, as bot.store.queue.status_counts names them.
OUTBOX_STATES = ("due", "sending", "unknown", "deferred")
FORWARDED = ("X-Forwarded-For", "Forwarded", "X-Real-IP")


class PrometheusMetrics:
    """The metrics port's Prometheus implementation, and the gauges /metrics fills."""

    def __init__(self) -> None:
        # No `_created` series beside each counter and histogram (a second series per label
        # set that Prometheus does not need). The library keeps this switch per process.
        disable_created_metrics()  # type: ignore[no-untyped-call]  # unannotated in the library
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.inbound_total = Counter(
            "giaitrinh_inbound_messages",
            "Inbound messages by channel and outcome (stored, duplicate, refused).",
            ["channel", "outcome"],
            registry=r,
        )
        self.outbound_total = Counter(
            "giaitrinh_outbound_messages",
            "Outbound sends (immediate replies and outbox) by channel and platform outcome.",
            ["channel", "outcome"],
            registry=r,
        )
        self.deliveries_total = Counter(
            "giaitrinh_deliveries",
            "Outbox sends by delivery kind and the status the delivery policy gave them.",
            ["kind", "status"],
            registry=r,
        )
        self.engine_seconds = Histogram(
            "giaitrinh_engine_turn_seconds",
            "Engine turns (REST channel calls) by outcome: answered, refused, unavailable.",
            ["outcome"],
            buckets=ENGINE_BUCKETS,
            registry=r,
        )
        self.engine_errors = Counter(
            "giaitrinh_engine_errors",
            "Engine turns that ended without an answer, by kind (refused, unavailable).",
            ["kind"],
            registry=r,
        )
        self.database_up = Gauge(
            "giaitrinh_database_up", "1 when this scrape could read the database.", registry=r
        )
        self.outbox = Gauge(
            "giaitrinh_outbox_deliveries",
            "Outbox rows: due now (planned broadcast rows included), sending, unknown "
            "(in doubt), deferred.",
            ["state"],
            registry=r,
        )
        self.outbox_oldest = Gauge(
            "giaitrinh_outbox_oldest_due_seconds",
            "How long the oldest due outbox row has waited.",
            registry=r,
        )
        self.handoffs = Gauge(
            "giaitrinh_handoffs_open", "Open handoffs by status.", ["status"], registry=r
        )
        self.handoff_oldest = Gauge(
            "giaitrinh_handoff_oldest_seconds",
            "Since the citizen asked, for the oldest open handoff of each status.",
            ["status"],
            registry=r,
        )
        self.overdue = Gauge(
            "giaitrinh_cases_overdue", "Open cases whose legal deadline has passed.", registry=r
        )
        self.loop_up = Gauge(
            "giaitrinh_loop_up",
            "1 when this process's background loop runs well (as /healthz: not stopped, "
            "failing or stale).",
            ["loop"],
            registry=r,
        )
        self.loop_failures = Gauge(
            "giaitrinh_loop_failures",
            "Consecutive failed rounds of this process's background loop.",
            ["loop"],
            registry=r,
        )
        for kind in (EngineOutcome.REFUSED, EngineOutcome.UNAVAILABLE):
            self.engine_errors.labels(kind=kind.value)

    def channels(self, names: Iterable[str]) -> None:
        """Show every channel's inbound counters from the start, at 0."""
        for name in names:
            for outcome in Inbound:
                self.inbound_total.labels(channel=name, outcome=outcome.value)

    # -- the port (bot.metrics.Metrics) -----------------------------------------------------

    def inbound(self, channel: str, outcome: Inbound) -> None:
        """One inbound message (or refused request) on `channel`."""
        self.inbound_total.labels(channel=channel, outcome=outcome.value).inc()

    def outbound(self, channel: str, outcome: DeliveryOutcome) -> None:
        """One send to a platform (or a web reply stored) and its outcome."""
        self.outbound_total.labels(channel=channel, outcome=outcome.value).inc()

    def delivery(self, kind: DeliveryKind, status: DeliveryStatus) -> None:
        """One outbox send and the status the delivery policy gave it."""
        self.deliveries_total.labels(kind=kind.value, status=status.value).inc()

    def engine_turn(self, seconds: float, outcome: EngineOutcome) -> None:
        """One engine turn: its time, and an error when it did not answer."""
        self.engine_seconds.labels(outcome=outcome.value).observe(seconds)
        if outcome is not EngineOutcome.ANSWERED:
            self.engine_errors.labels(kind=outcome.value).inc()

    # -- read at each scrape ----------------------------------------------------------------

    async def read_gauges(self, app: web.Application) -> None:
        """The backlog from the database (three reads, costs in docs/operations.md) and the
        state of this process's loops."""
        now = datetime.now(UTC)
        for name, state in app.get(LOOPS, {}).items():
            self.loop_up.labels(loop=name).set(0 if state.problem(now) else 1)
            self.loop_failures.labels(loop=name).set(state.failures)
        if not await app[DB].reachable():  # the counters are still worth a scrape
            self.database_up.set(0)
            for gauge in (self.outbox, self.handoffs, self.handoff_oldest):
                gauge.clear()
            for unknown in (self.outbox_oldest, self.overdue):
                unknown.set(math.nan)
            return
        self.database_up.set(1)
        waiting = await backlog(app[DB], now)
        for row_state in OUTBOX_STATES:
            self.outbox.labels(state=row_state).set(waiting.outbox[row_state])
        self.outbox_oldest.set(waiting.outbox["oldest_due_seconds"])
        for status in sorted(OPEN_HANDOFFS):
            queue = waiting.handoffs[status]
            self.handoffs.labels(status=status.value).set(queue.count)
            self.handoff_oldest.labels(status=status.value).set(queue.oldest_seconds)
        self.overdue.set(waiting.overdue_cases)


METRICS = web.AppKey("metrics", PrometheusMetrics)


def allowed(request: web.Request) -> bool:
    """The access rule of /metrics (module docstring)."""
    token = request.app[SETTINGS].metrics_token.get_secret_value()
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        return scheme.lower() == "bearer" and same_secret(given.strip(), token)
    if any(header in request.headers for header in FORWARDED):
        return False
    try:
        return ipaddress.ip_address(request.remote or "").is_loopback
    except ValueError:  # a Unix socket, or no peer address at all
        return False


async def metrics(request: web.Request) -> web.Response:
    """GET /metrics: every counter of this process, the gauges read now."""
    if not allowed(request):
        raise Forbidden("Không được phép xem số liệu vận hành.", code="metrics_forbidden")
    recorder = request.app[METRICS]
    await recorder.read_gauges(request.app)
    return web.Response(
        body=generate_latest(recorder.registry), headers={"Content-Type": CONTENT_TYPE_PLAIN_0_0_4}
    )


def count_refused(inbound_routes: dict[str, str]) -> Middleware:
    """A middleware that counts inbound requests answered with an error (nothing stored)
    as `refused` for the channel of their route (`inbound_routes`: POST path → channel)."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        channel = inbound_routes.get(request.path) if request.method == "POST" else None
        if channel is None:
            return await handler(request)
        try:
            response = await handler(request)
        except web.HTTPException as exc:  # a redirect: the error middleware renders errors
            if exc.status >= 400:
                request.app[METRICS].inbound(channel, Inbound.REFUSED)
            raise
        except Exception:  # not rendered: aiohttp answers 500
            request.app[METRICS].inbound(channel, Inbound.REFUSED)
            raise
        if response.status >= 400:
            request.app[METRICS].inbound(channel, Inbound.REFUSED)
        return response

    return middleware


def setup(app: web.Application) -> None:
    """Mount /metrics; the app factory makes the recorder and passes it to the core."""
    app[METRICS] = PrometheusMetrics()
    app.router.add_get("/metrics", metrics)
