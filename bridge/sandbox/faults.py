"""`Faults`: the sandbox's misbehaviour switches, settable by tests at any time.

Every random draw comes from one generator seeded with `seed`, so that a failing test replays
the same faults on the same requests (given the same requests in the same order).
"""

from __future__ import annotations

import json
import random
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# What a malformed answer looks like, by kind (`Faults.malformed`).
MALFORMED_KINDS = ("types", "fields", "truncated", "html", "empty", "huge")
# The "huge" body's size: past the bridge's limit (bridge.discourse.transport.MAX_BODY_BYTES).
HUGE_BYTES = 12 * 1024 * 1024
# Keys a "fields" answer leaves out, wherever they are: what every object of Discourse's
# answers is known by.
_DROPPED_FIELDS = frozenset({"id", "topic_id", "post_number", "username"})


@dataclass
class Faults:
    """Misbehaviour to inject.

    - `error_rate`: fraction of requests answered 502/503 by "the proxy", before Discourse;
    - `latency`: seconds added to every request (a real sleep: a few ms at most in tests);
    - `drop_next`: close the connection without any answer for the next N requests;
    - `lose_rate`: fraction of requests performed, then hung up on (the answer is lost);
    - `crash_after_write`: for the next N POST/PUT requests, perform the write, then close the
      connection without answering (a crash between the write and its acknowledgement);
    - `fail_paths`: path prefix -> HTTP status, answered once to the next matching request;
    - `rate_limit_rate`: fraction of requests that start a burst of `rate_limit_burst` 429s
      (this request included) with Retry-After `rate_limit_wait` seconds;
    - `malformed`: path regex (searched) -> kind of `MALFORMED_KINDS`, for every successful
      answer to a matching GET, until cleared;
    - `on_request`: called with each request's number (from 1), method and path, before its
      fate is drawn (a test can kill the client process at the n-th request).
    """

    error_rate: float = 0.0
    latency: float = 0.0
    drop_next: int = 0
    lose_rate: float = 0.0
    crash_after_write: int = 0
    fail_paths: dict[str, int] = field(default_factory=dict)
    rate_limit_rate: float = 0.0
    rate_limit_burst: int = 3
    rate_limit_wait: int = 5
    malformed: dict[str, str] = field(default_factory=dict)
    on_request: Callable[[int, str, str], None] | None = None
    seed: int = 0
    # Counts of what was done, by fate: what a test reports as "tried".
    injected: dict[str, int] = field(default_factory=dict)
    _rng: random.Random = field(init=False, repr=False)
    _burst_left: int = field(init=False, default=0, repr=False)
    _count: int = field(init=False, default=0, repr=False)
    _lock: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.reseed(self.seed)

    def reseed(self, seed: int) -> None:
        with self._lock:
            self.seed = seed
            self._rng = random.Random(seed)
            self._burst_left = 0

    def clear(self) -> None:
        with self._lock:
            self.error_rate = self.latency = self.lose_rate = self.rate_limit_rate = 0.0
            self.drop_next = self.crash_after_write = self._burst_left = 0
            self.fail_paths.clear()
            self.malformed.clear()
            self.on_request = None

    def decide(self, method: str, path: str) -> tuple[str | None, int]:
        """This request's fate: ("drop", 0), ("status", code), ("crash", 0) or (None, 0)."""
        with self._lock:
            self._count += 1
            count, hook = self._count, self.on_request
        if hook is not None:
            hook(count, method, path)
        with self._lock:
            fate = self._draw(method, path)
            if fate[0] is not None:
                name = f"{fate[0]} {fate[1]}" if fate[0] == "status" else fate[0]
                self.injected[name] = self.injected.get(name, 0) + 1
            return fate

    def _draw(self, method: str, path: str) -> tuple[str | None, int]:
        if self.drop_next > 0:
            self.drop_next -= 1
            return "drop", 0
        for prefix, status in list(self.fail_paths.items()):
            if path.startswith(prefix):
                del self.fail_paths[prefix]
                return "status", status
        if self._burst_left > 0:
            self._burst_left -= 1
            return "status", 429
        # One draw per switch, always in the same order: the same seed gives the same faults.
        draws = [self._rng.random() for _ in range(3)]
        if self.rate_limit_rate and draws[0] < self.rate_limit_rate:
            self._burst_left = max(0, self.rate_limit_burst - 1)
            return "status", 429
        if self.error_rate and draws[1] < self.error_rate:
            return "status", self._rng.choice((502, 503))
        if self.lose_rate and draws[2] < self.lose_rate:
            return "crash", 0
        if method in ("POST", "PUT") and self.crash_after_write > 0:
            self.crash_after_write -= 1
            return "crash", 0
        return None, 0

    def malformed_kind(self, method: str, path: str) -> str | None:
        if method != "GET":
            return None
        with self._lock:
            for pattern, kind in self.malformed.items():
                if re.search(pattern, path):
                    self.injected[f"malformed {kind}"] = (
                        self.injected.get(f"malformed {kind}", 0) + 1
                    )
                    return kind
        return None


def malformed_body(kind: str, body: dict[str, Any] | None) -> tuple[bytes, str]:
    """The bytes and Content-Type of a malformed version of a 200 answer's `body`."""
    json_type = "application/json; charset=utf-8"
    text = json.dumps(body, ensure_ascii=False)
    if kind == "types":
        return json.dumps(_wrong_types(body), ensure_ascii=False).encode(), json_type
    if kind == "fields":
        return json.dumps(_without_fields(body), ensure_ascii=False).encode(), json_type
    if kind == "truncated":
        return text.encode()[: max(1, len(text.encode()) // 2)], json_type
    if kind == "html":
        # A captive portal or a maintenance page that answers 200.
        page = "<!DOCTYPE html><html><body><h1>Maintenance en cours</h1></body></html>"
        return page.encode(), "text/html; charset=utf-8"
    if kind == "empty":
        return b"", json_type
    if kind == "huge":
        # Valid JSON, the real answer padded far past what any Discourse answer weighs.
        padded = {**(body or {}), "padding": "x" * HUGE_BYTES}
        return json.dumps(padded).encode(), json_type
    raise ValueError(f"unknown malformed kind: {kind}")


def _wrong_types(value: Any) -> Any:
    """Numbers as words, and lists of objects as one object: each id becomes unreadable."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return f"n°{value}"
    if isinstance(value, list):
        return [_wrong_types(v) for v in value]
    if isinstance(value, dict):
        return {k: _wrong_types(v) for k, v in value.items()}
    return value


def _without_fields(value: Any) -> Any:
    if isinstance(value, list):
        return [_without_fields(v) for v in value]
    if isinstance(value, dict):
        return {k: _without_fields(v) for k, v in value.items() if k not in _DROPPED_FIELDS}
    return value
