"""Settings: read from the environment once, validated at start-up, one frozen dataclass per concern.

A missing or malformed value raises `SettingsError` whose message is one line naming the variable.
Secrets are kept out of `repr` so they never reach a log or a traceback.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from grader.course.config import Course, CourseError, load_course

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./grader.db"
DEFAULT_GITHUB_API_URL = "https://api.github.com"
DEFAULT_JOB_PROCESSOR = "grader.pipeline:process_job"
GITHUB_ACTIONS_ISSUER = "https://token.actions.githubusercontent.com"
DEFAULT_COMMENT_AUTHOR = "github-actions[bot]"  # the account a workflow's GITHUB_TOKEN comments as
# The docker client's own environment: how to reach the engine, nothing else of the service.
DOCKER_CLIENT_ENV = ("PATH", "HOME", "DOCKER_HOST", "DOCKER_CONFIG", "DOCKER_CONTEXT", "DOCKER_TLS_VERIFY",
                     "DOCKER_CERT_PATH")
# Where pip inside an image build finds the host's CA bundle (behind a TLS-inspecting proxy).
CA_BUNDLE_ENV = ("PIP_CERT", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")
# What `uv` needs of the environment to reach the package index (proxies), nothing else of the service.
INDEX_CLIENT_ENV = ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
                    "SSL_CERT_DIR")
DEFAULT_PACKAGE_INDEX_URL = "https://pypi.org/simple"
# GitHub caps webhook payloads at 25 MB; we accept exactly that much and no more.
GITHUB_PAYLOAD_CAP_BYTES = 25 * 1024 * 1024
# Where a generated dashboard session secret is kept when GRADER_SESSION_SECRET is not set.
SESSION_SECRET_FILE_NAME = "grader-session-secret"  # noqa: S105 - a file name
MIN_SESSION_SECRET_LENGTH = 32

T = TypeVar("T")


def _built_in_rubrics() -> Path:
    """The rubrics that ship with the grader: inside an installed package (`grader/rubrics`), or the
    checkout's `rubric/` folder when running from the repository."""
    installed = Path(__file__).resolve().parent / "rubrics"
    return installed if installed.is_dir() else Path(__file__).resolve().parents[1] / "rubric"


SHIPPED_RUBRIC = _built_in_rubrics() / "sqlalchemy-async.toml"


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names it in one line."""


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = field(default=DEFAULT_DATABASE_URL, repr=False)
    echo: bool = False
    pool_size: int = 10
    max_overflow: int = 10
    pool_timeout: float = 30.0
    pool_recycle: int = 1800
    pool_pre_ping: bool = True
    sqlite_busy_timeout_ms: int = 5000
    retry_attempts: int = 5

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")


@dataclass(frozen=True)
class WebhookSettings:
    secret: str = field(default="", repr=False)
    max_body_bytes: int = GITHUB_PAYLOAD_CAP_BYTES
    # Bodies being received and not yet verified, at once; the next delivery waits for a slot up to
    # `pending_wait_seconds`, then gets 503 with Retry-After.
    max_pending_bodies: int = 32
    max_pending_per_client: int = 8  # per client address (the TLS front's X-Forwarded-For, when trusted)
    pending_wait_seconds: float = 2.0
    # Each pending body is kept in memory up to this size, the rest in an unlinked temporary file.
    memory_bytes: int = 256 * 1024
    spool_dir: Path | None = None  # None: the system's temporary directory


@dataclass(frozen=True)
class HttpSettings:
    """What the HTTP server allows a client, whichever endpoint it calls."""

    header_timeout_seconds: float = 10.0  # from connecting (or from the first byte of the next request)
    body_timeout_seconds: float = 15.0  # from the end of the request head to the end of its body
    idle_timeout_seconds: float = 5.0  # a kept-alive connection with no request
    max_header_bytes: int = 16 * 1024
    max_json_depth: int = 64  # nesting of arrays and objects in a JSON body, checked before parsing
    # Proxies whose X-Forwarded-Proto/-For are believed (the TLS front); "*" trusts every peer.
    forwarded_allow_ips: str = "127.0.0.1"


@dataclass(frozen=True)
class SessionSettings:
    """Dashboard sessions: cookies signed with a server secret that is never stored in the database."""

    secret: str = field(default="", repr=False)
    # Where `grader serve` keeps the secret it generates on first start when GRADER_SESSION_SECRET is unset.
    secret_file: Path = Path(SESSION_SECRET_FILE_NAME)
    lifetime_seconds: int = 12 * 3600


@dataclass(frozen=True)
class GitHubSettings:
    api_url: str = DEFAULT_GITHUB_API_URL
    token: str = field(default="", repr=False)
    app_id: str = ""
    private_key: str = field(default="", repr=False)

    @property
    def html_url(self) -> str:
        """The web address matching the API (github.com, or the GitHub Enterprise host)."""
        api = self.api_url.rstrip("/")
        if api == DEFAULT_GITHUB_API_URL:
            return "https://github.com"
        return api.removesuffix("/api/v3")


@dataclass(frozen=True)
class QueueSettings:
    workers: int = 1
    lease_seconds: float = 60.0
    heartbeat_seconds: float = 10.0
    poll_seconds: float = 5.0  # idle workers are woken when a job is queued; this is the fallback
    processor: str = DEFAULT_JOB_PROCESSOR  # `module:function` doing a job's work (tests swap it)
    max_attempts: int = 5
    retry_base_seconds: float = 5.0
    retry_max_seconds: float = 300.0
    shutdown_grace_seconds: float = 30.0
    standings_seconds: float = 2.0  # how often `grader serve` stores the standings that changed


@dataclass(frozen=True)
class RunnerSettings:
    image: str = "grader-runner:latest"
    memory_mb: int = 1024
    cpus: float = 1.0
    pids: int = 256
    tmpfs_mb: int = 512
    step_timeout_seconds: int = 300
    run_timeout_seconds: int = 900
    output_limit_bytes: int = 1_000_000
    max_checkout_bytes: int = 50 * 1024 * 1024
    docker_env: tuple[tuple[str, str], ...] = ()  # (name, value) of DOCKER_CLIENT_ENV that are set
    build_ca_bundle: Path | None = None  # the host's CA bundle, copied into image builds


@dataclass(frozen=True)
class DependencySettings:
    """Students' own dependencies: where wheels come from and where installed sets are kept.

    The cache folder must be on the machine of the Docker engine: it is bind-mounted into the sandbox.
    """

    index_url: str = field(default=DEFAULT_PACKAGE_INDEX_URL, repr=False)  # may carry a mirror's credentials
    cache_dir: Path = field(default_factory=lambda: Path.home() / ".cache" / "grader" / "deps")
    cache_mb: int = 2048
    client_env: tuple[tuple[str, str], ...] = ()  # (name, value) of INDEX_CLIENT_ENV that are set
    ca_bundle: Path | None = None  # the host's CA bundle, for an index behind a TLS-inspecting proxy


@dataclass(frozen=True)
class GradingSettings:
    rubric_path: Path = SHIPPED_RUBRIC
    remediation_base_url: str = ""  # overrides the rubric's own base URL when set


@dataclass(frozen=True)
class OidcSettings:
    """The workflow-report intake: off until `GRADER_OIDC_AUDIENCE` is set."""

    audience: str = ""
    issuer: str = GITHUB_ACTIONS_ISSUER
    jwks_url: str = f"{GITHUB_ACTIONS_ISSUER}/.well-known/jwks"
    # Exact `job_workflow_ref` values, e.g. "course/grader/.github/workflows/grade.yml@refs/tags/v1".
    workflow_refs: tuple[str, ...] = ()
    # Shell-style patterns of `repository` claims, e.g. "course-2026/*".
    repositories: tuple[str, ...] = ()
    jwks_cache_seconds: float = 300.0
    leeway_seconds: float = 30.0

    @property
    def enabled(self) -> bool:
        return bool(self.audience)


@dataclass(frozen=True)
class ActionsSettings:
    """What a GitHub Actions step is given: the run's files and its OIDC token request."""

    server_url: str = "https://github.com"
    comment_author: str = DEFAULT_COMMENT_AUTHOR
    step_summary: str = ""
    output: str = ""
    id_token_request_url: str = ""
    id_token_request_token: str = field(default="", repr=False)


@dataclass(frozen=True)
class Settings:
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    webhook: WebhookSettings = field(default_factory=WebhookSettings)
    http: HttpSettings = field(default_factory=HttpSettings)
    session: SessionSettings = field(default_factory=SessionSettings)
    github: GitHubSettings = field(default_factory=GitHubSettings)
    queue: QueueSettings = field(default_factory=QueueSettings)
    runner: RunnerSettings = field(default_factory=RunnerSettings)
    dependencies: DependencySettings = field(default_factory=DependencySettings)
    grading: GradingSettings = field(default_factory=GradingSettings)
    oidc: OidcSettings = field(default_factory=OidcSettings)
    actions: ActionsSettings = field(default_factory=ActionsSettings)
    course: Course | None = None  # GRADER_COURSE, parsed at start; None: one rubric for every repository


def _text(env: Mapping[str, str], name: str, default: str) -> str:
    return env.get(name, "").strip() or default


def _parsed(env: Mapping[str, str], name: str, default: T, parse: Callable[[str], T], what: str) -> T:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return parse(raw)
    except ValueError:
        raise SettingsError(f"{name} must be {what}, got {raw!r}") from None


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value <= 0:
        raise ValueError(raw)
    return value


def _positive_float(raw: str) -> float:
    value = float(raw)
    if value <= 0:
        raise ValueError(raw)
    return value


def _boolean(raw: str) -> bool:
    lowered = raw.lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError(raw)


def _read_database(env: Mapping[str, str]) -> DatabaseSettings:
    url_raw = env.get("DATABASE_URL", "").strip()
    if url_raw and not url_raw.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        # The URL can hold a password: name the variable, never echo its value.
        raise SettingsError("DATABASE_URL must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
    return DatabaseSettings(
        url=url_raw or DEFAULT_DATABASE_URL,
        echo=_parsed(env, "GRADER_DB_ECHO", False, _boolean, "true or false"),
        pool_size=_parsed(env, "GRADER_DB_POOL_SIZE", 10, _positive_int, "a positive integer"),
        max_overflow=_parsed(env, "GRADER_DB_MAX_OVERFLOW", 10, int, "an integer"),
        pool_timeout=_parsed(env, "GRADER_DB_POOL_TIMEOUT", 30.0, _positive_float, "a positive number"),
        pool_recycle=_parsed(env, "GRADER_DB_POOL_RECYCLE", 1800, _positive_int, "a positive integer"),
        pool_pre_ping=_parsed(env, "GRADER_DB_POOL_PRE_PING", True, _boolean, "true or false"),
        sqlite_busy_timeout_ms=_parsed(env, "GRADER_SQLITE_BUSY_TIMEOUT_MS", 5000, _positive_int, "a positive integer"),
        retry_attempts=_parsed(env, "GRADER_DB_RETRY_ATTEMPTS", 5, _positive_int, "a positive integer"),
    )


def _read_webhook(env: Mapping[str, str]) -> WebhookSettings:
    number = "a positive integer"
    max_body_mb = _parsed(env, "GRADER_WEBHOOK_MAX_BODY_MB", 25, _positive_int, number)
    if max_body_mb * 1024 * 1024 > GITHUB_PAYLOAD_CAP_BYTES:
        raise SettingsError("GRADER_WEBHOOK_MAX_BODY_MB must be at most 25 (GitHub's own cap)")
    spool_dir = env.get("GRADER_WEBHOOK_SPOOL_DIR", "").strip()
    if spool_dir and not Path(spool_dir).is_dir():
        raise SettingsError(f"GRADER_WEBHOOK_SPOOL_DIR must be an existing directory, got {spool_dir!r}")
    return WebhookSettings(
        secret=env.get("GITHUB_WEBHOOK_SECRET", ""),
        max_body_bytes=max_body_mb * 1024 * 1024,
        max_pending_bodies=_parsed(env, "GRADER_WEBHOOK_MAX_PENDING", 32, _positive_int, number),
        max_pending_per_client=_parsed(env, "GRADER_WEBHOOK_MAX_PENDING_PER_CLIENT", 8, _positive_int, number),
        pending_wait_seconds=_parsed(env, "GRADER_WEBHOOK_PENDING_WAIT", 2.0, _positive_float,
                                     "a positive number of seconds"),
        memory_bytes=_parsed(env, "GRADER_WEBHOOK_MEMORY_KB", 256, _positive_int, number) * 1024,
        spool_dir=Path(spool_dir) if spool_dir else None,
    )


def _read_http(env: Mapping[str, str]) -> HttpSettings:
    seconds = "a positive number of seconds"
    return HttpSettings(
        header_timeout_seconds=_parsed(env, "GRADER_HTTP_HEADER_TIMEOUT", 10.0, _positive_float, seconds),
        body_timeout_seconds=_parsed(env, "GRADER_HTTP_BODY_TIMEOUT", 15.0, _positive_float, seconds),
        idle_timeout_seconds=_parsed(env, "GRADER_HTTP_IDLE_TIMEOUT", 5.0, _positive_float, seconds),
        max_header_bytes=_parsed(env, "GRADER_HTTP_MAX_HEADER_KB", 16, _positive_int, "a positive integer") * 1024,
        max_json_depth=_parsed(env, "GRADER_JSON_MAX_DEPTH", 64, _positive_int, "a positive integer"),
        forwarded_allow_ips=_text(env, "GRADER_FORWARDED_ALLOW_IPS", "127.0.0.1"),
    )


def _default_secret_file(database: DatabaseSettings) -> Path:
    """Next to the SQLite database file; in the working directory otherwise (PostgreSQL, in-memory)."""
    path = database.url.split("///", 1)[1] if database.is_sqlite and "///" in database.url else ""
    path = path.split("?", 1)[0]
    if path and path != ":memory:":
        return Path(path).parent / SESSION_SECRET_FILE_NAME
    return Path(SESSION_SECRET_FILE_NAME)


def _read_session(env: Mapping[str, str], database: DatabaseSettings) -> SessionSettings:
    secret = env.get("GRADER_SESSION_SECRET", "").strip()
    if secret and len(secret) < MIN_SESSION_SECRET_LENGTH:
        raise SettingsError(f"GRADER_SESSION_SECRET must be at least {MIN_SESSION_SECRET_LENGTH} characters "
                            "(e.g. the output of: python -c 'import secrets; print(secrets.token_urlsafe(48))')")
    secret_file = env.get("GRADER_SESSION_SECRET_FILE", "").strip()
    return SessionSettings(
        secret=secret,
        secret_file=Path(secret_file) if secret_file else _default_secret_file(database),
        lifetime_seconds=_parsed(env, "GRADER_SESSION_HOURS", 12, _positive_int, "a positive integer") * 3600,
    )


def _read_github(env: Mapping[str, str]) -> GitHubSettings:
    api_url = _text(env, "GITHUB_API_URL", DEFAULT_GITHUB_API_URL).rstrip("/")
    if not api_url.startswith(("http://", "https://")):
        raise SettingsError(f"GITHUB_API_URL must be an http(s) URL, got {api_url!r}")
    private_key = env.get("GITHUB_PRIVATE_KEY", "")
    key_path = env.get("GITHUB_PRIVATE_KEY_PATH", "").strip()
    if key_path:
        try:
            private_key = Path(key_path).read_text()
        except OSError as exc:
            raise SettingsError(f"GITHUB_PRIVATE_KEY_PATH cannot be read: {exc.strerror}") from None
    app_id = env.get("GITHUB_APP_ID", "").strip()
    if bool(app_id) != bool(private_key):
        raise SettingsError("GITHUB_APP_ID and GITHUB_PRIVATE_KEY must be set together")
    return GitHubSettings(api_url=api_url, token=env.get("GITHUB_TOKEN", "").strip(), app_id=app_id,
                          private_key=private_key)


def default_workers() -> int:
    """One grading per core plus one: a grading waits on Docker and the database part of the time, so
    on 2 cores 3 at once reach 0.99 of the CPU limit where 2 reach 0.89 (README, Benchmarks)."""
    return (os.cpu_count() or 1) + 1


def _read_queue(env: Mapping[str, str]) -> QueueSettings:
    lease = _parsed(env, "GRADER_LEASE_SECONDS", 60.0, _positive_float, "a positive number")
    heartbeat = _parsed(env, "GRADER_HEARTBEAT_SECONDS", min(10.0, lease / 3), _positive_float, "a positive number")
    if heartbeat >= lease:
        raise SettingsError("GRADER_HEARTBEAT_SECONDS must be shorter than GRADER_LEASE_SECONDS")
    return QueueSettings(
        workers=_parsed(env, "GRADER_WORKERS", default_workers(), int, "an integer (0 disables in-process workers)"),
        lease_seconds=lease,
        heartbeat_seconds=heartbeat,
        poll_seconds=_parsed(env, "GRADER_POLL_SECONDS", 5.0, _positive_float, "a positive number"),
        standings_seconds=_parsed(env, "GRADER_STANDINGS_SECONDS", 2.0, _positive_float, "a positive number"),
        processor=_text(env, "GRADER_JOB_PROCESSOR", DEFAULT_JOB_PROCESSOR),
        max_attempts=_parsed(env, "GRADER_MAX_ATTEMPTS", 5, _positive_int, "a positive integer"),
        retry_base_seconds=_parsed(env, "GRADER_RETRY_BASE_SECONDS", 5.0, _positive_float, "a positive number"),
        retry_max_seconds=_parsed(env, "GRADER_RETRY_MAX_SECONDS", 300.0, _positive_float, "a positive number"),
        shutdown_grace_seconds=_parsed(env, "GRADER_SHUTDOWN_GRACE_SECONDS", 30.0, float, "a number of seconds"),
    )


def _read_runner(env: Mapping[str, str]) -> RunnerSettings:
    number = "a positive integer"
    return RunnerSettings(
        image=_text(env, "GRADER_IMAGE", "grader-runner:latest"),
        memory_mb=_parsed(env, "GRADER_MEMORY_MB", 1024, _positive_int, number),
        cpus=_parsed(env, "GRADER_CPUS", 1.0, _positive_float, "a positive number"),
        pids=_parsed(env, "GRADER_PIDS", 256, _positive_int, number),
        tmpfs_mb=_parsed(env, "GRADER_TMPFS_MB", 512, _positive_int, number),
        step_timeout_seconds=_parsed(env, "GRADER_STEP_TIMEOUT", 300, _positive_int, number),
        run_timeout_seconds=_parsed(env, "GRADER_RUN_TIMEOUT", 900, _positive_int, number),
        output_limit_bytes=_parsed(env, "GRADER_OUTPUT_LIMIT_BYTES", 1_000_000, _positive_int, number),
        max_checkout_bytes=_parsed(env, "GRADER_MAX_CHECKOUT_MB", 50, _positive_int, number) * 1024 * 1024,
        docker_env=tuple((name, env[name]) for name in DOCKER_CLIENT_ENV if name in env),
        build_ca_bundle=_ca_bundle(env),
    )


def _ca_bundle(env: Mapping[str, str]) -> Path | None:
    for name in CA_BUNDLE_ENV:
        value = env.get(name, "").strip()
        if value and Path(value).is_file():
            return Path(value)
    return None


def _read_dependencies(env: Mapping[str, str]) -> DependencySettings:
    index_url = env.get("GRADER_PACKAGE_INDEX_URL", "").strip().rstrip("/") or DEFAULT_PACKAGE_INDEX_URL
    if not index_url.startswith(("https://", "http://", "file://")):
        # It can hold a mirror's credentials: name the variable, never echo its value.
        raise SettingsError("GRADER_PACKAGE_INDEX_URL must be the http(s):// or file:// URL of a simple index")
    cache_dir = env.get("GRADER_DEPS_CACHE_DIR", "").strip()
    home = env.get("XDG_CACHE_HOME", "").strip()
    default_dir = Path(home) / "grader" / "deps" if home else DependencySettings().cache_dir
    return DependencySettings(
        index_url=index_url, cache_dir=Path(cache_dir).absolute() if cache_dir else default_dir,
        cache_mb=_parsed(env, "GRADER_DEPS_CACHE_MB", 2048, _positive_int, "a positive integer (megabytes)"),
        client_env=tuple((name, env[name]) for name in INDEX_CLIENT_ENV if name in env),
        ca_bundle=_ca_bundle(env))


def _read_grading(env: Mapping[str, str]) -> GradingSettings:
    rubric = env.get("GRADER_RUBRIC", "").strip()
    return GradingSettings(rubric_path=Path(rubric) if rubric else SHIPPED_RUBRIC,
                           remediation_base_url=env.get("GRADER_REMEDIATION_BASE_URL", "").strip())


def _items(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in env.get(name, "").split(",") if item.strip())


def _url(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, "").strip().rstrip("/") or default
    if not value.startswith(("https://", "http://")):
        raise SettingsError(f"{name} must be an http(s) URL, got {value!r}")
    return value


def _read_oidc(env: Mapping[str, str]) -> OidcSettings:
    issuer = _url(env, "GRADER_OIDC_ISSUER", GITHUB_ACTIONS_ISSUER)
    settings = OidcSettings(
        audience=env.get("GRADER_OIDC_AUDIENCE", "").strip().rstrip("/"),
        issuer=issuer,
        jwks_url=_url(env, "GRADER_OIDC_JWKS_URL", f"{issuer}/.well-known/jwks"),
        workflow_refs=_items(env, "GRADER_OIDC_WORKFLOW_REF"),
        repositories=_items(env, "GRADER_OIDC_REPOSITORIES"),
        jwks_cache_seconds=_parsed(env, "GRADER_OIDC_JWKS_CACHE_SECONDS", 300.0, _positive_float,
                                   "a positive number"),
    )
    if settings.enabled and not settings.workflow_refs:
        raise SettingsError("GRADER_OIDC_WORKFLOW_REF must name the pinned reusable workflow "
                            "when GRADER_OIDC_AUDIENCE is set")
    if settings.enabled and not settings.repositories:
        raise SettingsError("GRADER_OIDC_REPOSITORIES must list the course's repositories (e.g. org/*) "
                            "when GRADER_OIDC_AUDIENCE is set")
    return settings


def _read_actions(env: Mapping[str, str]) -> ActionsSettings:
    return ActionsSettings(
        server_url=_text(env, "GITHUB_SERVER_URL", "https://github.com").rstrip("/"),
        comment_author=_text(env, "GRADER_COMMENT_AUTHOR", DEFAULT_COMMENT_AUTHOR),
        step_summary=_text(env, "GITHUB_STEP_SUMMARY", ""),
        output=_text(env, "GITHUB_OUTPUT", ""),
        id_token_request_url=_text(env, "ACTIONS_ID_TOKEN_REQUEST_URL", ""),
        id_token_request_token=_text(env, "ACTIONS_ID_TOKEN_REQUEST_TOKEN", ""),
    )


def _read_course(env: Mapping[str, str]) -> Course | None:
    path = env.get("GRADER_COURSE", "").strip()
    if not path:
        return None
    try:
        return load_course(path)
    except CourseError as exc:
        raise SettingsError(f"GRADER_COURSE {exc}") from None


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read every setting from `env` (default: the process environment)."""
    env = os.environ if env is None else env
    database = _read_database(env)
    return Settings(
        database=database,
        webhook=_read_webhook(env),
        http=_read_http(env),
        session=_read_session(env, database),
        github=_read_github(env),
        queue=_read_queue(env),
        runner=_read_runner(env),
        dependencies=_read_dependencies(env),
        grading=_read_grading(env),
        oidc=_read_oidc(env),
        actions=_read_actions(env),
        course=_read_course(env),
    )
