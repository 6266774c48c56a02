"""Functions for worker-process tests: importable by name in a fresh process."""

from __future__ import annotations

import os
import time


def nap(seconds: float) -> float:
    """Sleep, then say how long: a stand-in for an extraction that may hang."""
    time.sleep(seconds)
    return seconds


def fail(message: str) -> None:
    raise ValueError(message)


def die(code: int) -> None:
    os._exit(code)
