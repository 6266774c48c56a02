"""robots.txt with RFC 9309 semantics, cached per host.

A 2xx answer is parsed (longest match wins, Allow beats Disallow on ties: protego); a 4xx
answer means everything is allowed; a 5xx answer or no answer means nothing is allowed
for now, and is asked again sooner than a real answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from protego import Protego

FRESH_FOR = timedelta(hours=24)
UNREACHABLE_FRESH_FOR = timedelta(hours=1)
# Longest robots.txt read: RFC 9309 asks parsers to read at least 500 KiB.
MAX_ROBOTS_BYTES = 512 * 1024


@dataclass(frozen=True)
class RobotsFile:
    """What a host answered for /robots.txt, and when."""

    host: str  # scheme://host[:port]
    fetched_at: datetime
    status: int | None  # None: no answer
    body: str = ""

    def fresh(self, now: datetime) -> bool:
        answered = self.status is not None and self.status < 500
        return now - self.fetched_at < (FRESH_FOR if answered else UNREACHABLE_FRESH_FOR)

    def allows(self, url: str, agent: str) -> bool:
        """Whether ``agent`` may fetch ``url`` under this file."""
        if self.status is None or self.status >= 500:
            return False
        if self.status >= 400:
            return True
        return Protego.parse(self.body).can_fetch(url, agent)

    def crawl_delay(self, agent: str) -> float | None:
        """The delay the file asks for between requests, if any."""
        if self.status is None or not 200 <= self.status < 300:
            return None
        delay = Protego.parse(self.body).crawl_delay(agent)
        return float(delay) if delay is not None else None


def origin(url: str) -> str:
    """``scheme://host[:port]`` of ``url``: the scope of a robots.txt file."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.lower()}"


def agent_token(user_agent: str) -> str:
    """The product token robots.txt rules name (``storywatch`` from ``storywatch/0.1 (...)``)."""
    return user_agent.split("/", 1)[0].split(" ", 1)[0] or "*"
