"""Settings, from the environment or a `.env` file. Secrets come only from here."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SLACK_API_DEFAULT = "https://slack.com/api/"
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    slack_bot_token: str | None = Field(default=None, description="Bot token (xoxb-...)")
    slack_signing_secret: str | None = Field(
        default=None, description="Verifies requests from Slack (HTTP mode)"
    )
    slack_app_token: str | None = Field(default=None, description="App-level token (xapp-...): Socket Mode")
    slack_api_url: str = Field(default=SLACK_API_DEFAULT, description="Slack Web API base URL")
    database_url: str = Field(default="sqlite:///ecm.db")
    ecm_timezone: str = Field(default="Europe/London")
    port: int = Field(default=3000)
    host: str = Field(default="0.0.0.0")
    log_level: str = Field(default="INFO")
    # Scheduler tick: how often the planner and dispatcher look for work (seconds).
    ecm_tick_seconds: int = Field(default=60)
    # Bolt's listener pool: it only acks (and checks modal input), so a few threads answer many requests.
    ecm_ack_workers: int = Field(default=8, ge=1, le=256)
    # The pool that runs commands and talks to Slack after the ack; size it for the slowest Slack answers.
    ecm_reply_workers: int = Field(default=16, ge=1, le=256)
    # Of those, how many compute at once (first come first served; one waiting for Slack or the database
    # computes nothing and holds no place); 0 = no limit; "auto" (the default) = 1 on SQLite, 0 on PostgreSQL
    # (`reply_computing`). Past ECM_REPLY_COMPUTING_WAIT seconds in line a reply runs anyway, so one long
    # reply never stops the others.
    ecm_reply_computing: Annotated[int, Field(ge=0, le=256)] | Literal["auto"] = Field(default="auto")
    ecm_reply_computing_wait: float = Field(default=1.0, gt=0, le=60)
    # Home tabs are republished after a change on a thread of their own, waiting this long (seconds) for more
    # changes first, so a burst of them costs one refresh per person; 0 publishes at once.
    ecm_home_refresh_seconds: float = Field(default=1.0, ge=0, le=60)
    # SQLite: a server's WAL checkpoints every this many seconds on a thread of its own, never in a commit a
    # person waits for; 0 = SQLite's own (at the commit that finds the log past 1,000 pages).
    ecm_sqlite_checkpoint_seconds: float = Field(default=1.0, ge=0, le=300)
    # Database connections kept open; 0 = one per thread that can use the database at once.
    ecm_db_pool_size: int = Field(default=0, ge=0, le=1024)
    # Starting up with no route to Slack: how many times to try auth.test (0 = keep trying), and the first
    # wait between tries in seconds (doubling, at most a minute).
    ecm_slack_connect_attempts: int = Field(default=10, ge=0)
    ecm_slack_retry_seconds: float = Field(default=5.0, gt=0)
    # Socket Mode: give up (exit 3, to be restarted) after this long without a connection to Slack.
    ecm_socket_max_offline_seconds: float = Field(default=300.0, gt=0)
    # HTTP mode: server processes answering Slack on the one port (uvicorn workers), each with its own pools
    # and connections, so requests are not all on one interpreter lock. 1 serves in the `ecm-bot run` process.
    ecm_web_workers: int = Field(default=1, ge=1, le=32)
    # HTTP mode: requests with a larger body are refused (413) before the rest is read.
    ecm_max_request_bytes: int = Field(default=256 * 1024, ge=1024)
    # Each Slack Web API call gives up after this long (seconds); a post past it has an unknown outcome and
    # is looked for in the conversation before it is sent again.
    ecm_slack_timeout_seconds: int = Field(default=30, ge=1, le=300)
    # A Web API call Slack answered with a server error (5xx), or a read whose connection dropped, is tried
    # again after this many seconds, doubling each time, plus up to twice it at random (0.5: slack_sdk's own
    # back-off). A 429 always waits for the Retry-After Slack sends, whatever this is.
    ecm_slack_backoff_seconds: float = Field(default=0.5, gt=0, le=60)
    # Scheduled posts: a process's claim on a row lasts this long (seconds) and is renewed while the process
    # works, so the rows of a process that died are taken over within this long.
    ecm_lease_seconds: int = Field(default=60, ge=3, le=3600)
    # Scheduled posts: the claims are renewed this often (seconds); 0 = every third of the lease. A shorter
    # period rides out a longer stall of the database without lengthening the take-over of a dead process's
    # rows. Less than half the lease (a post starts only with half its lease left).
    ecm_heartbeat_seconds: float = Field(default=0.0, ge=0)
    # Scheduled posts: at most this many messages per second to any one channel or DM (Slack allows about 1).
    ecm_channel_posts_per_second: float = Field(default=1.0, gt=0, le=100)
    # Retention (days): closed actions' notes and finished outbox rows older than this are pruned daily; 0 keeps all.
    ecm_retention_days: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _heartbeat_within_the_lease(self) -> Settings:
        if self.ecm_heartbeat_seconds * 2 >= self.ecm_lease_seconds:
            raise ValueError(
                f"ECM_HEARTBEAT_SECONDS ({self.ecm_heartbeat_seconds:g}) must be less than half of "
                f"ECM_LEASE_SECONDS ({self.ecm_lease_seconds})"
            )
        return self

    @property
    def db_pool_size(self) -> int:
        """The ack and reply pools' threads, plus the scheduler's and the health check's: no request ever
        waits for a connection while one of them holds it."""
        return self.ecm_db_pool_size or (self.ecm_ack_workers + self.ecm_reply_workers + 4)

    @property
    def reply_computing(self) -> int:
        """ECM_REPLY_COMPUTING with "auto" resolved. Under 8 concurrent clients on a 2-core machine (README,
        Benchmarks) one reply computing at a time cut SQLite's CPU per request by ~15-20% and its p99 by
        ~15%: SQLite releases the interpreter lock at every row it steps, and with several replies computing
        each release hands the lock to another (~330 context switches a request, ~85 with the limit). On
        PostgreSQL the limit made the p99 worse (its replies wait for the server, and the place changes
        hands around every statement), so there it is off."""
        if self.ecm_reply_computing == "auto":
            from storage.db import is_sqlite  # here: importing the settings does not load SQLAlchemy

            return 1 if is_sqlite(self.database_url) else 0
        return self.ecm_reply_computing

    @property
    def api_url(self) -> str:
        return self.slack_api_url if self.slack_api_url.endswith("/") else self.slack_api_url + "/"


class ConfigError(Exception):
    """A setting is missing or wrong; the CLI prints it as one line."""


def require_slack(settings: Settings, *, serving: bool = True) -> None:
    """Checks the Slack settings a process needs; a worker only posts, so it needs no app token or secret."""
    if not settings.slack_bot_token:
        raise ConfigError(
            "SLACK_BOT_TOKEN is not set. Put the bot token (xoxb-...) in the environment or .env; "
            "or try the bot offline with `ecm-bot console`."
        )
    if serving and not settings.slack_app_token and not settings.slack_signing_secret:
        raise ConfigError("Set SLACK_APP_TOKEN (xapp-..., Socket Mode) or SLACK_SIGNING_SECRET (HTTP mode).")
