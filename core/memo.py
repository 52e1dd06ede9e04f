"""Short-lived per-process memos for values every request of a surge reads.

A signing request must not spend a database query or a Redis round trip on facts that
change a few times a year (the country list) or that may be a second late (whether signing
is paused). Each memo holds one value per key for ``seconds`` in this process only; the
code that changes the fact calls ``forget`` in its own process, and the other processes
catch up when their copy expires. Dict operations are atomic under the GIL, so threads
share a memo without a lock (two threads may both compute a missing value: harmless).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")

_memos: list[ProcessMemo[object]] = []


class ProcessMemo(Generic[T]):
    def __init__(self, seconds: float, max_entries: int = 1024) -> None:
        self.seconds = seconds
        self.max_entries = max_entries  # keys may come from requests: the memo stays small
        self._held: dict[Hashable, tuple[float, T]] = {}
        _memos.append(self)  # type: ignore[arg-type]

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        now = time.monotonic()
        held = self._held.get(key)
        if held is not None and held[0] > now:
            return held[1]
        value = compute()
        if len(self._held) >= self.max_entries:
            self._held.clear()
        self._held[key] = (now + self.seconds, value)
        return value

    def forget(self, key: Hashable | None = None) -> None:
        if key is None:
            self._held.clear()
        else:
            self._held.pop(key, None)


def forget_all() -> None:
    """Empty every memo of this process (tests start from a clean slate)."""
    for memo in _memos:
        memo.forget()
