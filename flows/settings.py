"""Settings: environment first, then a settings file, then defaults that work locally.

The settings file is ``storywatch.toml`` in the working directory, or the file named by
``STORYWATCH_CONFIG``. Alert URLs carry secrets: keep them in the environment (or a file
outside the repository), never in a committed settings file.
"""

from __future__ import annotations

import os
import re
import tomllib
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, fields
from datetime import timedelta
from pathlib import Path

import duckdb

from extractors.changes import ChangeRules
from extractors.records import ALERT_KINDS
from flows.netguard import parse_networks
from warehouse.connection import open_warehouse

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_STORY = "uk-troops-ukraine"


class SettingsError(ValueError):
    """A setting has a value that cannot be used."""


@dataclass(frozen=True)
class HttpSettings:
    """How storywatch talks to news sites."""

    timeout: float = 20.0  # seconds for the whole request, connect to last byte
    max_bytes: int = 5_000_000  # largest feed or page body kept, after decompression
    concurrency: int = 8  # requests in flight at once
    max_redirects: int = 5
    user_agent: str = "storywatch/0.1 (news monitoring; set STORYWATCH_USER_AGENT to add a contact)"
    min_host_delay: float = 1.0  # seconds between two requests to the same host
    max_crawl_delay: float = 10.0  # the most a robots.txt Crawl-delay can slow us down
    retries: int = 2  # extra attempts for failures that may pass (timeouts, 429, 5xx)
    retry_backoff: float = 1.0  # seconds before the first retry; doubles, with jitter
    retry_max_wait: float = 30.0  # a longer Retry-After is left for the next cycle
    # Non-public networks that may be fetched anyway (e.g. "127.0.0.1" for tests, or an
    # intranet feed): every other private, loopback or link-local address is refused.
    allow_private: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        parse_networks(self.allow_private)  # a bad entry is a settings error, named


@dataclass(frozen=True)
class Settings:
    """Everything a run needs to know besides the story itself."""

    warehouse: Path = Path("data/storywatch.duckdb")
    seeds: Path = field(default_factory=lambda: _default_seeds())
    story: str = DEFAULT_STORY
    alert_urls: tuple[str, ...] = ()
    max_alert_attempts: int = 5
    # Seconds a failed alert waits before its next attempt, twice as long after each failure.
    alert_retry_wait: float = 300.0
    # The kinds of alert that are sent; the others are only logged.
    alert_kinds: tuple[str, ...] = ALERT_KINDS
    # One message per cycle and channel, with every alert it has, rather than one per alert.
    alert_digest: bool = False
    lock_wait: float = 30.0  # seconds to wait for another process's lock on the warehouse
    extract_timeout: float = 30.0  # hard limit per page for extraction and tagging
    parse_timeout: float = 30.0  # hard limit per feed document for parsing
    source_down_after: float = 6.0  # hours a feed may fail before a "source down" alert
    extract_workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    # A change of stance needs this many independent sources before it is alerted.
    min_sources: int = 1
    # Reports of the old stance this many hours around a change make it disputed, not a flip-flop.
    dispute_hours: float = 24.0
    # The relevance score an item needs; 0 keeps the story's own (story.yaml relevance: threshold).
    relevance_threshold: float = 0.0
    # An installed spaCy pipeline (package or folder) that also finds new actors; none by default.
    ner_model: str = ""
    http: HttpSettings = field(default_factory=HttpSettings)

    def __post_init__(self) -> None:
        unknown = sorted(set(self.alert_kinds) - set(ALERT_KINDS))
        if unknown:
            raise SettingsError(
                f"setting alert_kinds: unknown kind(s) {', '.join(unknown)} (kinds: {', '.join(ALERT_KINDS)})"
            )

    def open_warehouse(self, read_only: bool = False) -> AbstractContextManager[duckdb.DuckDBPyConnection]:
        """A short-lived connection to the configured warehouse."""
        return open_warehouse(self.warehouse, read_only=read_only, wait_seconds=self.lock_wait)

    @property
    def change_rules(self) -> ChangeRules:
        """How much agreement a stance change needs."""
        return ChangeRules(self.min_sources, timedelta(hours=self.dispute_hours))

    def story_dir(self, story: str | None = None) -> Path:
        """The folder of ``story``: a path as given, or a name under the seeds folder."""
        name = story or self.story
        candidate = Path(name)
        if candidate.is_dir() and (candidate / "story.yaml").exists():
            return candidate
        return self.seeds / name


def _default_seeds() -> Path:
    local = Path("seeds")
    return local if local.is_dir() else PROJECT_ROOT / "seeds"


_ENV = {
    "warehouse": "STORYWATCH_WAREHOUSE",
    "seeds": "STORYWATCH_SEEDS",
    "story": "STORYWATCH_STORY",
    "alert_urls": "STORYWATCH_ALERT_URLS",
    "max_alert_attempts": "STORYWATCH_MAX_ALERT_ATTEMPTS",
    "alert_retry_wait": "STORYWATCH_ALERT_RETRY_WAIT",
    "alert_kinds": "STORYWATCH_ALERT_KINDS",
    "alert_digest": "STORYWATCH_ALERT_DIGEST",
    "lock_wait": "STORYWATCH_LOCK_WAIT",
    "extract_timeout": "STORYWATCH_EXTRACT_TIMEOUT",
    "parse_timeout": "STORYWATCH_PARSE_TIMEOUT",
    "source_down_after": "STORYWATCH_SOURCE_DOWN_AFTER",
    "extract_workers": "STORYWATCH_EXTRACT_WORKERS",
    "min_sources": "STORYWATCH_MIN_SOURCES",
    "dispute_hours": "STORYWATCH_DISPUTE_HOURS",
    "relevance_threshold": "STORYWATCH_RELEVANCE_THRESHOLD",
    "ner_model": "STORYWATCH_NER_MODEL",
    "http.timeout": "STORYWATCH_HTTP_TIMEOUT",
    "http.max_bytes": "STORYWATCH_HTTP_MAX_BYTES",
    "http.concurrency": "STORYWATCH_HTTP_CONCURRENCY",
    "http.user_agent": "STORYWATCH_USER_AGENT",
    "http.min_host_delay": "STORYWATCH_HTTP_MIN_HOST_DELAY",
    "http.retries": "STORYWATCH_HTTP_RETRIES",
    "http.retry_backoff": "STORYWATCH_HTTP_RETRY_BACKOFF",
    "http.retry_max_wait": "STORYWATCH_HTTP_RETRY_MAX_WAIT",
    "http.allow_private": "STORYWATCH_HTTP_ALLOW_PRIVATE",
}
# Settings that may be zero (the others must be positive).
_MAY_BE_ZERO = {"min_host_delay", "retries", "retry_backoff", "dispute_hours", "relevance_threshold"}


def load_settings(env: dict[str, str] | None = None, file: Path | None = None) -> Settings:
    """Read settings from ``env`` (default: the process environment) and the settings file."""
    env = dict(os.environ if env is None else env)
    path = file or Path(env.get("STORYWATCH_CONFIG", "storywatch.toml"))
    values: dict[str, object] = {}
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise SettingsError(f"{path}: not valid TOML: {exc}") from None
        values.update({k: v for k, v in data.items() if k != "http"})
        values.update({f"http.{k}": v for k, v in (data.get("http") or {}).items()})
        unknown = set(values) - set(_ENV)
        if unknown:
            raise SettingsError(f"{path}: unknown setting(s) {', '.join(sorted(unknown))}")
    values.update({name: env[var] for name, var in _ENV.items() if env.get(var)})
    top = {k: v for k, v in values.items() if not k.startswith("http.")}
    http = {k[5:]: v for k, v in values.items() if k.startswith("http.")}
    try:
        return Settings(**_typed(Settings, top), http=HttpSettings(**_typed(HttpSettings, http)))
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"invalid setting: {exc}") from None


def _typed(cls: type, raw: dict[str, object]) -> dict[str, object]:
    types = {f.name: str(f.type) for f in fields(cls)}
    out: dict[str, object] = {}
    for name, value in raw.items():
        kind = types[name]
        if kind.startswith("tuple"):
            items = value if isinstance(value, list) else re.split(r"[\s,]+", str(value))
            out[name] = tuple(str(v) for v in items if str(v))
        elif "Path" in kind:
            out[name] = Path(str(value))
        elif kind == "bool":
            out[name] = _flag(name, value)
        elif kind in ("int", "float"):
            out[name] = _number(int if kind == "int" else float, name, value)
        else:
            out[name] = str(value)
    return out


def _flag(name: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"setting {name}: {value!r} is not true or false")


def _number(kind: type, name: str, value: object) -> int | float:
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise SettingsError(f"setting {name}: {value!r} is not a number") from None
    if number < 0 or (number == 0 and name not in _MAY_BE_ZERO):
        raise SettingsError(f"setting {name}: must be greater than 0, got {value!r}")
    return number
