"""Settings: keyword arguments, `SCRAPESHIELD_*` environment variables, or a TOML file.

Precedence is keyword arguments > environment > file > defaults, so a deployment can override
one value of a checked-in file with an environment variable. Every problem is collected and
raised at start-up as one `ConfigurationError` naming each setting.
"""

from __future__ import annotations

import itertools
import re
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from scrapeshield.behaviour.settings import BehaviourSettings
from scrapeshield.challenge.settings import ChallengeSettings
from scrapeshield.credentials.settings import CredentialSpec
from scrapeshield.dashboard.settings import DashboardSettings
from scrapeshield.deterrents.settings import DecoySettings, PayPerCrawlSettings, TarpitSettings
from scrapeshield.directives.settings import DirectivesSettings
from scrapeshield.errors import ConfigurationError
from scrapeshield.evidence.settings import EvidenceSettings
from scrapeshield.fingerprint.settings import FingerprintSettings
from scrapeshield.identity.settings import IdentitySettings
from scrapeshield.lease.settings import LeaseSettings
from scrapeshield.marks import RouteSpec
from scrapeshield.metrics.settings import MetricsSettings
from scrapeshield.pages.settings import PagesSettings
from scrapeshield.ratelimit.settings import RateLimitSettings
from scrapeshield.settings_base import Section, check_cidrs, split_commas
from scrapeshield.signals import Action

ENV_PREFIX = "SCRAPESHIELD_"
UNIX_PEER = "unix"  # in trusted_proxies: trust a proxy connected over a Unix socket

_file_data: ContextVar[dict[str, Any] | None] = ContextVar("_file_data", default=None)


class RuleSpec(Section):
    """An operator rule (safelist or blocklist): every condition given must hold.

    Within one condition the listed values are alternatives: `ips = ["10.0.0.0/8", "::1"]`
    matches either. `headers` maps a header name to a glob its value must match; `when` is a
    Python callable receiving the request's `Facts` (not settable from TOML or environment).
    """

    name: str = Field(min_length=1)
    ips: list[str] = []
    paths: list[str] = []
    methods: list[str] = []
    user_agents: list[str] = []
    headers: dict[str, str] = {}
    when: Callable[[Any], bool] | None = None

    _cidrs = field_validator("ips")(check_cidrs)

    @field_validator("methods")
    @classmethod
    def _upper(cls, values: list[str]) -> list[str]:
        return [v.upper() for v in values]


class RouteGroupSpec(Section):
    """A named group of routes (by path glob and optionally method) such as `images`.

    `on_challenge`: what a challenge verdict becomes on these routes. `challenge` (the default)
    sends the challenge; `throttle` never challenges (clients that run no JavaScript: APIs,
    mobile apps), so the rate limits decide (a 429 over budget, served within it); `block`
    refuses (403) whatever would have been challenged. Block rules apply either way.
    """

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    paths: list[str] = Field(min_length=1)
    methods: list[str] = []
    on_challenge: Literal["challenge", "throttle", "block"] = "challenge"


class PolicyRuleSpec(Section):
    """`action` when a signal named by `signals` (globs) is present and the score is high enough."""

    name: str = Field(min_length=1)
    signals: list[str] = Field(min_length=1)
    action: Action
    min_score: float | None = None
    ban_for: float | None = Field(default=None, gt=0)


class PolicySettings(Section):
    """Score thresholds and rules; the packaged default rules follow the operator's own.

    `tarpit_score` and `decoy_score` (off by default) are thresholds like the other two: the
    highest threshold the score reaches decides. `pass_answers` (globs) names the signals a
    challenge pass answers; None takes the packaged list (docs/challenge.md#what-a-pass-answers).
    """

    challenge_score: float = 40.0
    block_score: float = 80.0
    tarpit_score: float | None = None
    decoy_score: float | None = None
    rules: list[PolicyRuleSpec] = []
    use_default_rules: bool = True
    weights: dict[str, float] = {}
    pass_answers: list[str] | None = None


DEFAULT_ROUTE_GROUPS = [
    # Previews before originals: an index page shows dozens of thumbnails, and a person browsing
    # it must not spend what limits and budgets allow for originals.
    RouteGroupSpec(name="thumbnails", paths=["/thumbs/*", "/thumbnails/*", "/previews/*"]),
    RouteGroupSpec(
        name="images",
        paths=["/images/*", "*.png", "*.jpg", "*.jpeg", "*.gif", "*.webp", "*.avif"],
    ),
    RouteGroupSpec(
        name="assets", paths=["/static/*", "*.css", "*.js", "*.ico", "*.svg", "*.woff2"]
    ),
    RouteGroupSpec(name="api", paths=["/api/*"], on_challenge="throttle"),
]

DEFAULT_HEALTH_PATHS = ["/healthz", "/livez", "/readyz", "/health"]
"""Kubernetes' probe paths (`/healthz`, `/livez`, `/readyz`) and the common `/health`."""
_MAX_HEALTH_PATH = 256


class Settings(BaseSettings):
    """Everything scrapeshield reads; `Settings()` with nothing set protects a site sensibly."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
        arbitrary_types_allowed=True,
        validate_default=True,
    )

    mode: Literal["enforce", "monitor", "off"] = "enforce"
    site_name: str = "this site"
    terms_url: str | None = None

    store_url: str = "memory://"
    store_prefix: str = "scrapeshield:"
    store_timeout: float = Field(default=0.25, gt=0, le=30)
    store_max_connections: int = Field(default=32, ge=1, le=1024)
    fail_mode: Literal["open", "closed"] = "open"
    breaker_cooldown: float = Field(default=5.0, gt=0, le=3600)
    memory_max_keys: int = Field(default=100_000, ge=100)
    event_stream_maxlen: int = Field(default=10_000, ge=10)

    trusted_proxies: Annotated[list[str], NoDecode] = []
    client_ip_header: Literal["x-forwarded-for", "forwarded", "x-real-ip"] = "x-forwarded-for"
    trust_request_id: bool = False
    ipv4_prefix: int = Field(default=32, ge=8, le=32)
    ipv6_prefix: int = Field(default=64, ge=32, le=128)

    user_agent_max_length: int = Field(default=512, ge=64, le=16_384)
    health_paths: Annotated[list[str], NoDecode] = DEFAULT_HEALTH_PATHS
    route_groups: list[RouteGroupSpec] = DEFAULT_ROUTE_GROUPS
    routes: dict[str, RouteSpec] = {}
    safelist: list[RuleSpec] = []
    blocklist: list[RuleSpec] = []
    credentials: list[CredentialSpec] = []
    policy: PolicySettings = PolicySettings()
    fingerprint: FingerprintSettings = FingerprintSettings()
    ban_default_duration: float = Field(default=3600.0, gt=0)
    ratelimit: RateLimitSettings = RateLimitSettings()
    blocklog_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "WARNING"
    directives: DirectivesSettings = DirectivesSettings()
    challenge: ChallengeSettings = ChallengeSettings()
    behaviour: BehaviourSettings = BehaviourSettings()
    decoy: DecoySettings = DecoySettings()
    tarpit: TarpitSettings = TarpitSettings()
    identity: IdentitySettings = IdentitySettings()
    pay_per_crawl: PayPerCrawlSettings = PayPerCrawlSettings()
    evidence: EvidenceSettings = EvidenceSettings()
    metrics: MetricsSettings = MetricsSettings()
    dashboard: DashboardSettings = DashboardSettings()
    pages: PagesSettings = PagesSettings()
    event_stream_shards: int = Field(default=16, ge=1, le=1024)
    """Streams the block log is spread over on a Redis Cluster that spreads keys (one key on
    one server, or on a Cluster pinned by `store_prefix`): docs/block-log.md."""
    lease: LeaseSettings = LeaseSettings()

    responder: Callable[..., Any] | None = Field(default=None, exclude=True)

    _proxies = field_validator("trusted_proxies", mode="before")(split_commas)
    _health_split = field_validator("health_paths", mode="before")(split_commas)

    @field_validator("health_paths")
    @classmethod
    def _health_paths(cls, values: list[str]) -> list[str]:
        """Exact paths (a set lookup per request): no globs, no query, nothing a server would
        never put in `scope["path"]`."""
        for value in values:
            if (
                not value.startswith("/")
                or len(value) > _MAX_HEALTH_PATH
                or any(c in value for c in "*?[#")
                or not value.isprintable()
                or any(c.isspace() for c in value)
            ):
                raise ValueError(
                    f"{value!r} is not an exact path (expected e.g. '/healthz': starts with '/', "
                    f"no glob, query or spaces, at most {_MAX_HEALTH_PATH} characters)"
                )
        return values

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_cidrs(cls, values: list[str]) -> list[str]:
        """CIDRs, or `unix`: a proxy on a Unix socket, where the ASGI server reports no peer."""
        unix = [v.strip() for v in values if v.strip() == UNIX_PEER]
        return unix + check_cidrs([v for v in values if v.strip() != UNIX_PEER])

    @field_validator("credentials")
    @classmethod
    def _credential_names(cls, specs: list[CredentialSpec]) -> list[CredentialSpec]:
        names = [spec.name for spec in specs]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"credential names must be unique (repeated: {repeated})")
        return specs

    @field_validator("store_url")
    @classmethod
    def _store_scheme(cls, value: str) -> str:
        scheme = value.split("://", 1)[0].lower() if "://" in value else ""
        if scheme not in {"memory", "redis", "rediss", "unix", "redis+cluster", "redis+sentinel"}:
            raise ValueError(
                f"{value!r} is not a store URL (expected memory://, redis://, rediss://, "
                "unix://, redis+cluster:// or redis+sentinel://)"
            )
        return value

    @field_validator("store_prefix")
    @classmethod
    def _cluster_hash_tag(cls, value: str, info: ValidationInfo) -> str:
        """Keys carry their subject as their Cluster hash tag (`store.keys`), which spreads them
        over every primary. A prefix with a tag of its own would pin every key to one slot: still
        correct, no longer spread (docs/store.md#cluster), so it is allowed. Any other brace
        (`{}`, an unclosed `{`) would make Cluster hash part of the key's name with its
        subject, splitting one client's keys over several slots: refused."""
        if ("{" in value or "}" in value) and not has_hash_tag(value):
            raise ValueError(
                "a brace that is not a hash tag ('{}', an unclosed '{') would split a client's "
                "keys over Redis Cluster slots; remove it (docs/store.md#cluster)"
            )
        return value

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise ConfigurationError(_describe(exc)) from None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _FileSource(settings_cls))

    @classmethod
    def from_file(cls, path: str | Path, **overrides: Any) -> Settings:
        """Read a TOML file: top-level keys, or a `[scrapeshield]` table.

        When the file has a `[scrapeshield]` table, only that table is read: the rest of the file
        belongs to the application, so one config file can hold both.
        """
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigurationError(
                [f"settings file {str(path)!r}: cannot read ({exc})"]
            ) from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigurationError(
                [f"settings file {str(path)!r}: invalid TOML ({exc})"]
            ) from None
        if isinstance(data.get("scrapeshield"), dict):
            data = data["scrapeshield"]
        with _file_values(data):
            return cls(**overrides)


class _FileSource(PydanticBaseSettingsSource):
    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(_file_data.get() or {})


@contextmanager
def _file_values(data: dict[str, Any]) -> Iterator[None]:
    token = _file_data.set(data)
    try:
        yield
    finally:
        _file_data.reset(token)


def has_hash_tag(prefix: str) -> bool:
    """True when `prefix` fixes the Redis Cluster slot of every key that starts with it: a
    non-empty `{...}` in it (Redis hashes the text between the first `{` and the next `}`)."""
    start = prefix.find("{")
    end = prefix.find("}", start + 1) if start >= 0 else -1
    return end > start + 1


_SECRET_WORDS = ("secret", "password", "token", "signing_key", "secret_keys")
_URL_PASSWORD = re.compile(r"(://[^:/@\s]*:)[^@\s]*@")


def _describe(exc: ValidationError) -> list[str]:
    """One line per problem: dotted setting name, environment variable, and what is expected.
    A rejected secret is never echoed (keys, passwords, a URL's password), so the message is
    safe to log."""
    problems = []
    for error in exc.errors():
        loc = ".".join(str(part) for part in error["loc"]) or "settings"
        names = [str(p) for p in itertools.takewhile(lambda p: isinstance(p, str), error["loc"])]
        env = ""
        if names and names[0] in Settings.model_fields:
            env = f" ({ENV_PREFIX}{'__'.join(names).upper()})"
        message = _URL_PASSWORD.sub(r"\1***@", error["msg"].removeprefix("Value error, "))
        if error["type"] == "extra_forbidden":
            message = "unknown setting (check the spelling against docs/settings.md)"
        elif any(word in loc.lower() for word in _SECRET_WORDS):
            message = f"{message} (value not shown: it is a secret)"
        else:
            shown = _URL_PASSWORD.sub(r"\1***@", repr(error.get("input")))
            if len(shown) > 80:
                shown = shown[:77] + "..."
            message = f"{message} (got {shown})"
        problems.append(f"{loc}{env}: {message}")
    return problems
