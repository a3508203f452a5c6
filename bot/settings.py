"""Settings read once from the environment (and `.env`), in one place."""

from __future__ import annotations

from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.domain.handoff import HandoffPolicy
from bot.domain.office_hours import OfficeHours

PROJECT_ROOT = Path(__file__).resolve().parent.parent


# The background loops a process can run (GIAITRINH_BACKGROUND).
LOOPS = ("engine_retry", "outbox", "deadlines", "retention", "telegram_polling", "zalo_tokens")


class Settings(BaseSettings):
    """Every knob of the gateway; environment variables are prefixed GIAITRINH_."""

    model_config = SettingsConfigDict(
        env_prefix="GIAITRINH_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = Field(
        default=f"sqlite+aiosqlite:///{PROJECT_ROOT / 'var' / 'giaitrinh.db'}",
        description=(
            "SQLAlchemy async URL: SQLite file by default, postgresql+asyncpg in production."
        ),
    )
    tracker_db_url: str = Field(
        default=f"sqlite+aiosqlite:///{PROJECT_ROOT / 'var' / 'rasa-tracker.db'}",
        description=(
            "The engine's tracker store (SQLAlchemy async URL), where the gateway erases "
            "dialogue state; `giaitrinh up` starts the engine on this SQLite file."
        ),
    )
    retention_days: int = Field(
        default=365, ge=1, description="Message texts and dialogue state are erased after this."
    )
    retention_interval: float = Field(
        default=3600.0, description="Seconds between rounds of the retention job."
    )
    database_busy_timeout_s: float = Field(
        default=10.0,
        description="How long a write waits for another's lock (SQLite's busy wait, "
        "PostgreSQL's lock_timeout), then fails.",
    )
    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str = Field(default="", description="Public https URL when webhooks are used.")

    rasa_url: str = "http://127.0.0.1:5005"
    rasa_token: SecretStr = SecretStr("")
    engine_timeout: float = Field(
        default=15.0,
        description=(
            "Seconds one engine turn may take: Rasa's --response-timeout; the gateway waits "
            "5 s longer, so a slow turn is never abandoned and sent again."
        ),
    )
    engine_max_attempts: int = Field(
        default=3,
        ge=1,
        description="Times a message the engine answers with an error is tried before it is "
        "set aside as failed (an engine that does not answer is waited for, not counted).",
    )
    engine_max_chars: int = Field(
        default=2000, description="Longer texts are stored whole but cut for the engine."
    )
    conversation_lease_s: float = Field(
        default=15.0,
        ge=1.0,
        description="Seconds a gateway process holds a conversation without renewing it (it "
        "renews every third of that while it works); another takes over after a crash.",
    )
    retry_interval: float = Field(
        default=3.0, description="Seconds between attempts to hand queued messages to the engine."
    )

    office_hours: str = Field(
        default="07:30-11:30,13:30-17:00",
        description="Operators' working hours (Vietnam time) on working days of the holidays "
        "calendar; an agency may set its own. Outside them a request for a person waits.",
    )
    office_saturday_morning: bool = Field(
        default=False, description="Operators also work Saturday mornings (one-stop desks)."
    )
    handoff_expected_minutes: int = Field(
        default=15,
        ge=1,
        description="Within working hours, citizens are told to expect an answer in about "
        "this many minutes.",
    )
    handoff_lease_s: int = Field(
        default=120,
        ge=10,
        description="An operator's claim lasts this long unless their console renews it; "
        "then the conversation is back in the queue.",
    )

    action_token: SecretStr = SecretStr("")
    token_ttl_days: int = Field(
        default=90, ge=1, description="Staff API tokens expire this many days after issue."
    )

    dispatch_interval: float = Field(default=1.0, description="Seconds between outbox rounds.")
    outbox_journal_dir: Path = Field(
        default=PROJECT_ROOT / "var" / "outbox",
        description="Where outbox workers note each send, so a killed worker is settled exactly.",
    )
    deadline_scan_interval: float = Field(default=300.0, description="Seconds between scans.")
    due_soon_hours: int = Field(
        default=48, description="Notice officers this long before a deadline."
    )
    petition_days: int = Field(default=10, description="Working days to handle a petition.")

    telegram_token: SecretStr = Field(
        default=SecretStr(""), description="Bot token from @BotFather."
    )
    telegram_webhook_secret: SecretStr = Field(
        default=SecretStr(""), description="secret_token given to setWebhook (A-Z a-z 0-9 _ -)."
    )
    telegram_api_base: str = Field(
        default="https://api.telegram.org", description="Bot API server (a local fake in tests)."
    )

    telegram_mode: str = Field(
        default="auto",
        description="webhook | polling | auto (polling when no public_url is configured).",
    )

    zalo_app_id: str = ""
    # Two different secrets on Zalo's side: the OA's secret key signs webhooks, the app's
    # secret key authenticates the OAuth token refresh.
    zalo_oa_secret_key: SecretStr = Field(
        default=SecretStr(""), description="OA secret key: checks webhook signatures (mac)."
    )
    zalo_app_secret_key: SecretStr = Field(
        default=SecretStr(""), description="App secret key: header of the OAuth token refresh."
    )
    zalo_secret_key: SecretStr = Field(
        default=SecretStr(""),
        description="Deprecated (one value for both): fills whichever of the two above is unset.",
    )
    zalo_api_base: str = "https://openapi.zalo.me"
    zalo_oauth_base: str = "https://oauth.zaloapp.com"
    zalo_access_token: SecretStr = Field(
        default=SecretStr(""), description="Initial access token (then rotated in the database)."
    )
    zalo_refresh_token: SecretStr = Field(
        default=SecretStr(""), description="Initial refresh token."
    )
    zalo_refresh_margin_s: int = Field(
        default=3 * 3600, description="Refresh this long before the access token expires."
    )
    zalo_max_event_age_s: int = Field(
        default=600, description="Webhook events older (or newer) than this are replays."
    )
    zalo_reply_window_h: int = Field(default=48, description="Free replies after a user's message.")
    zalo_reply_window_max: int = Field(default=8, description="Replies allowed in that window.")
    # Outside the reply window (docs/zalo.md): which message kinds the agency's OA may send,
    # and its monthly quota of them, counted in the database across processes.
    zalo_message_kinds: str = Field(
        default="transaction,promotion",
        description="Kinds enabled on the OA beyond the reply window: transaction, promotion.",
    )
    zalo_quota_month: int = Field(
        default=1000,
        ge=0,
        description="Messages beyond the reply window per month (transaction + promotion).",
    )
    zalo_quota_reserve: int = Field(
        default=100,
        ge=0,
        description="The last units of the monthly quota kept for case updates (not broadcasts).",
    )
    zalo_transaction_template: str = Field(
        default="transaction_event", description="template_type of case updates."
    )
    zalo_banner_url: str = Field(
        default="", description="Image shown at the top of transaction and promotion messages."
    )

    answer_noop: bool = Field(
        default=False,
        description="Benchmark only: the answer action replies without searching (make eval).",
    )

    # Outbox sending limits (token buckets). Telegram publishes about 30 messages/s per bot
    # and 1 per second per chat; Zalo's per-OA quotas depend on the OA: set them here.
    telegram_rate_per_s: float = 30.0
    telegram_rate_per_chat_s: float = 1.0
    zalo_rate_per_s: float = 10.0
    zalo_rate_per_chat_s: float = 1.0

    web_max_chars: int = 2000
    # Limits of the public web chat (token buckets: a burst, then so many a minute), far above
    # what a citizen typing or tapping buttons does; over them the request gets 429.
    web_sessions_per_ip_per_min: float = Field(default=10.0, gt=0)
    web_sessions_per_ip_burst: int = Field(default=20, ge=1)
    web_messages_per_session_per_min: float = Field(default=30.0, gt=0)
    web_messages_per_session_burst: int = Field(default=20, ge=1)
    web_messages_per_ip_per_min: float = Field(default=120.0, gt=0)
    web_messages_per_ip_burst: int = Field(default=60, ge=1)
    web_polls_per_session_per_min: float = Field(default=300.0, gt=0)
    web_polls_per_session_burst: int = Field(default=100, ge=1)
    web_limit_max_keys: int = Field(
        default=100_000, ge=1, description="Addresses and sessions remembered at most."
    )
    trusted_proxies: list[IPv4Network | IPv6Network] = Field(
        default=[],
        description=(
            'Reverse proxies whose X-Forwarded-For is believed (JSON list: ["10.0.0.0/8"]).'
        ),
    )
    # Open data (Open311 GeoReport v2, /open311/v2): who may file petitions through it, and
    # how often (per key for filing, per address for reading).
    open311_api_keys: SecretStr = Field(
        default=SecretStr(""),
        description="Comma-separated API keys that may POST requests.json (one per client "
        "app). Empty: nobody files through Open311; reading needs no key.",
    )
    open311_posts_per_key_per_min: float = Field(default=30.0, gt=0)
    open311_posts_per_key_burst: int = Field(default=30, ge=1)
    open311_reads_per_ip_per_min: float = Field(default=120.0, gt=0)
    open311_reads_per_ip_burst: int = Field(default=60, ge=1)
    log_level: str = "INFO"
    log_json: bool = Field(
        default=False,
        description="One JSON object per log line (event name and fields), for production.",
    )
    metrics_token: SecretStr = Field(
        default=SecretStr(""),
        description="Bearer token for GET /metrics. Empty: /metrics answers only direct "
        "requests from this host (loopback, no X-Forwarded-For), never through the proxy.",
    )

    # Several processes (docs/operations.md): which background loops each runs, and the
    # engines' shared lock store.
    background: str = Field(
        default="all",
        description="Background loops this process runs: all, none, or a comma-separated "
        f"list of {', '.join(LOOPS)}. Gateways run engine_retry; dispatchers the others; "
        "Telegram long polling runs in one process only.",
    )
    lock_store_url: str = Field(
        default="",
        description="redis://[:password@]host:port/db: the engines' lock store, so that "
        "several engine replicas share conversations. Empty: locks in the engine's memory.",
    )
    action_url: str = Field(
        default="",
        description="Where `giaitrinh engine` has the engine call the actions (a gateway's "
        "or the load balancer's /webhooks/actions). Empty: this host's gateway port.",
    )

    def runs(self, loop: str) -> bool:
        """Whether this process runs that background loop."""
        chosen = {name.strip() for name in self.background.split(",")}
        return "all" in chosen or loop in chosen

    def secret_values(self) -> list[str]:
        """Every secret setting's value that is set (tokens, keys), for the log scrubber:
        none of them may appear in a log line, wherever it came from."""
        values = (getattr(self, name) for name in type(self).model_fields)
        secrets = [v.get_secret_value() for v in values if isinstance(v, SecretStr)]
        # Each Open311 key may show up alone.
        secrets += [key.strip() for key in self.open311_api_keys.get_secret_value().split(",")]
        return [secret for secret in secrets if secret]

    @property
    def handoff(self) -> HandoffPolicy:
        """The handoff rules these settings describe."""
        hours = OfficeHours.parse(self.office_hours, self.office_saturday_morning)
        return HandoffPolicy(hours, self.handoff_expected_minutes, self.handoff_lease_s)

    @field_validator("background")
    @classmethod
    def _background(cls, value: str) -> str:
        """Refuse a loop name that does not exist (a typo would silently stop a loop)."""
        names = {name.strip() for name in value.split(",") if name.strip()}
        unknown = names - {"all", "none", *LOOPS}
        if unknown or not names:
            raise ValueError(f"unknown loops {sorted(unknown)}; known: all, none, {LOOPS}")
        return value

    @field_validator("office_hours")
    @classmethod
    def _office_hours(cls, value: str) -> str:
        """Refuse hours that do not parse at start-up, with what is wrong."""
        OfficeHours.parse(value)
        return value

    @model_validator(mode="after")
    def _zalo_secret_fallback(self) -> Settings:
        """The old single GIAITRINH_ZALO_SECRET_KEY still works where a new one is unset."""
        old = self.zalo_secret_key
        if old.get_secret_value():
            if not self.zalo_oa_secret_key.get_secret_value():
                self.zalo_oa_secret_key = old
            if not self.zalo_app_secret_key.get_secret_value():
                self.zalo_app_secret_key = old
        return self

    # The agency console (/console): sessions and log-in limits.
    console_session_key: SecretStr = Field(
        default=SecretStr(""),
        description=(
            "Key that encrypts console session cookies: 32 random bytes, base64 "
            "(openssl rand -base64 32). "
            "Unset: a key per process, so sessions end at each restart."
        ),
    )
    console_idle_minutes: float = Field(
        default=30.0, gt=0, description="A console session unused this long ends."
    )
    console_session_hours: float = Field(
        default=12.0, gt=0, description="A console session ends this long after log-in anyway."
    )
    console_logins_per_user_per_min: float = Field(default=5.0, gt=0)
    console_logins_per_user_burst: int = Field(default=10, ge=1)
    console_logins_per_ip_per_min: float = Field(default=20.0, gt=0)
    console_logins_per_ip_burst: int = Field(default=40, ge=1)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings for the CLI; the app factory takes them explicitly so tests can vary them."""
    return Settings()
