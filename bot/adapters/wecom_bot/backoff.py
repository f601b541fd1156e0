"""Delays between reconnection attempts: exponential with jitter, so that processes that lost
the connection together do not come back together (and trip WeCom's 45009 frequency limit)."""

from __future__ import annotations

import random


class Backoff:
    """The n-th delay is drawn from [d/2, d] with d = min(cap, base · 2ⁿ) ("equal jitter")."""

    def __init__(self, base: float = 1.0, cap: float = 30.0,
                 rng: random.Random | None = None) -> None:
        if not 0 < base <= cap:
            raise ValueError("need 0 < base <= cap")
        self.base, self.cap = base, cap
        self._rng = rng or random.Random()
        self.attempt = 0

    def next_delay(self) -> float:
        ceiling = min(self.cap, self.base * 2 ** min(self.attempt, 62))
        self.attempt += 1
        return self._rng.uniform(ceiling / 2, ceiling)

    def reset(self) -> None:
        self.attempt = 0
