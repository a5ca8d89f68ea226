"""Settings: every environment variable the product reads, with defaults that run offline."""

from __future__ import annotations

import secrets
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

WEAK_SECRETS = {'', 'secret', 'changeme', 'change-me', 'password', 'storage-secret', 'dev', 'test'}


class Settings(BaseSettings):
    """Read from the environment and `.env`; UPPER_CASE names are the env var names."""

    model_config = SettingsConfigDict(env_file='.env', extra='ignore')

    ENV: Literal['development', 'test', 'production'] = 'development'
    DATA_DIR: Path = Path('data')
    HOST: str = '0.0.0.0'
    PORT: int = 8080
    LOG_LEVEL: str = 'INFO'
    LOG_JSON: bool = True
    SENTRY_DSN: SecretStr | None = None  # errors reported to Sentry when set (needs the `sentry` extra)

    DATABASE_URL: str | None = None  # None → sqlite file in DATA_DIR
    REDIS_URL: str | None = None
    WORKERS: Literal['inprocess', 'external'] = 'inprocess'
    WORKER_CONCURRENCY: int = 4
    SCHEDULER_LEADER_TTL_SECONDS: float = 15.0  # with REDIS_URL: how soon another process takes over the scheduler

    STORAGE_SECRET: SecretStr | None = None  # None → generated once, kept in DATA_DIR
    COOKIE_SECURE: bool = False  # true behind HTTPS: the browser sends the session cookie over HTTPS only
    ADMIN_EMAIL: str | None = None

    ANTHROPIC_API_KEY: SecretStr | None = None
    ANTHROPIC_BASE_URL: str | None = None
    OPENAI_BASE_URL: str | None = None
    OPENAI_API_KEY: SecretStr | None = None
    DEFAULT_MODEL: str = ''  # '' → the provider's default (offline-1 / claude-sonnet-4-5 / llama3.1)
    OFFLINE_PACE_SECONDS: float = 1.0  # offline model pause per step so a founder can watch; 0 in tests
    # heal | escalate: the offline model meets a real failure it heals from, or one it asks the founder about;
    # painted-door: its first page is written without its form, so that feature's acceptance check fails and heals
    OFFLINE_SCENARIO: Literal['', 'heal', 'escalate', 'painted-door'] = ''

    # How one local sandbox is kept from starving the others (core/adapters/sandbox_local_limits.py): auto → a
    # cgroup per sandbox where the host lets us write one, else a uid per sandbox (root), else shared rlimits.
    SANDBOX_LIMITS: Literal['auto', 'cgroup', 'uid', 'shared'] = 'auto'
    SANDBOX_CGROUP_PARENT: str = ''  # a delegated cgroup v2 directory for the sandboxes' groups; '' → detect
    SANDBOX_UID_BASE: int = 1_000_000  # as root, each workspace runs as its own uid from this range
    SANDBOX_UID_COUNT: int = 10_000
    SANDBOX_MEMORY_MB: int = 1024  # per process (RLIMIT_DATA)
    SANDBOX_GROUP_MEMORY_MB: int = 2048  # all of one sandbox's processes and tmpfs pages together (cgroup modes)
    SANDBOX_TMPFS_MB: int = 256  # the size of each command's private /tmp and of its /dev/shm
    SANDBOX_MAX_PROCS: int = 256
    SANDBOX_WORKSPACE_MB: int = 2048  # the workspace's size cap, node_modules included
    SANDBOX_WORKSPACE_FILES: int = 150_000  # and its cap on files and folders
    SANDBOX_COMMAND_TIMEOUT: float = 120.0
    # isolated: local sandbox commands get their own network namespace (bubblewrap): no access to host services
    # (Postgres, Redis, this app); package registries only through the egress proxy (below). shared: host network,
    # downloads work, but sandboxed code reaches everything on 127.0.0.1 (give Postgres/Redis passwords). No effect
    # without bubblewrap.
    SANDBOX_NETWORK: Literal['isolated', 'shared'] = 'isolated'
    # pip wheels and npm packages downloaded once by the host for every local sandbox (read-only to them)
    PACKAGE_CACHE: bool = True
    # isolated only: the sandbox reaches the admin's allowlisted hosts (the package registries by default) through
    # the host's egress proxy (core/adapters/egress_proxy.py); off → no way out at all
    SANDBOX_EGRESS_PROXY: bool = True
    PREVIEW_LINK_MINUTES: float = 10.0  # a preview capability link's life, renewed while its frame is used
    PREVIEW_MAX_BODY_MB: int = 20  # the largest request or response body the preview proxy passes (413 past it)

    # E2B sandboxes instead of local ones when set (each build in a cloud microVM; previews through our proxy)
    E2B_API_KEY: SecretStr | None = None
    E2B_TEMPLATE: str = 'base'  # the E2B template builds start from (Python 3 and Node preinstalled in 'base')
    E2B_API_URL: str | None = None  # None → E2B's API; set for a self-hosted E2B or a local test server
    E2B_SANDBOX_URL: str | None = None  # None → each sandbox's own host on E2B's edge; set with E2B_API_URL

    S3_BUCKET: str | None = None
    S3_ENDPOINT_URL: str | None = None
    S3_PUBLIC_URL: str | None = None  # CDN domain; None → served through the app
    S3_REGION: str = 'us-east-1'
    AWS_ACCESS_KEY_ID: SecretStr | None = None
    AWS_SECRET_ACCESS_KEY: SecretStr | None = None

    # Mail (password reset links a founder asks for): off unless SMTP_HOST and PUBLIC_URL are set. Port 465 speaks
    # TLS from the start; any other port upgrades with STARTTLS when the server offers it (core/mail.py).
    SMTP_HOST: str | None = None
    SMTP_PORT: int = 587
    SMTP_FROM: str = ''  # '' → SMTP_USER, else no-reply@ the PUBLIC_URL's host
    SMTP_USER: str | None = None
    SMTP_PASSWORD: SecretStr | None = None
    # Where founders open the app (https://cofounder.example.com): the base of links in mail. Never taken from a
    # request, whose Host header anyone can set (a reset link pointing at their site would hand them the token).
    PUBLIC_URL: str | None = None

    CHROMIUM_PATH: str = '/usr/bin/chromium'
    SCREENSHOTS_ENABLED: bool = True

    AGENT_MAX_TOOL_CALLS: int = 150
    AGENT_MAX_TOKENS: int = 4096
    MODEL_RETRY_SECONDS: float = 60.0  # a build whose model provider stays down sleeps this long, doubling each time

    @model_validator(mode='after')
    def _refuse_weak_secret(self) -> Settings:
        secret = self.STORAGE_SECRET.get_secret_value() if self.STORAGE_SECRET else None
        if self.ENV != 'development' and secret is not None and (secret.lower() in WEAK_SECRETS or len(secret) < 16):
            raise ValueError(f'STORAGE_SECRET is too weak for {self.ENV}: use 16 or more random characters')
        return self

    @cached_property
    def data_dir(self) -> Path:
        path = self.DATA_DIR.resolve()
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def database_url(self) -> str:
        """Async SQLAlchemy URL (aiosqlite or asyncpg)."""
        url = self.DATABASE_URL or f'sqlite:///{self.data_dir / "cofounder.db"}'
        return _with_driver(url, sqlite='sqlite+aiosqlite', postgres='postgresql+asyncpg')

    @property
    def sync_database_url(self) -> str:
        """Sync URL for Alembic and the APScheduler job store."""
        url = self.DATABASE_URL or f'sqlite:///{self.data_dir / "cofounder.db"}'
        return _with_driver(url, sqlite='sqlite', postgres='postgresql+psycopg')

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith('sqlite')

    def storage_secret(self) -> str:
        """The configured secret, or one generated on first start and kept in the data dir."""
        if self.STORAGE_SECRET:
            return self.STORAGE_SECRET.get_secret_value()
        path = self.data_dir / '.storage_secret'
        if not path.exists():
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()

    def secret_values(self) -> list[str]:
        """Values of our own secret settings, so logs can redact them wherever they appear."""
        values = [getattr(self, name) for name in type(self).model_fields]
        found = [v.get_secret_value() for v in values if isinstance(v, SecretStr) and v.get_secret_value()]
        if self.STORAGE_SECRET is None and (self.data_dir / '.storage_secret').exists():
            found.append(self.storage_secret())
        return [v for v in found if len(v) >= 6]


def _with_driver(url: str, *, sqlite: str, postgres: str) -> str:
    scheme, _, rest = url.partition('://')
    base = scheme.split('+')[0]
    if base == 'sqlite':
        return f'{sqlite}://{rest}'
    if base in {'postgres', 'postgresql'}:
        return f'{postgres}://{rest}'
    return url
