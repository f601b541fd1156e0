"""One process holds a thing only one may (the WeCom AI bot's single live connection); the
others stand by and take over when its lease lapses. Leases live in the database, so this holds
across machines on PostgreSQL as on one SQLite file.

(An advisory single-holder lock written for issue 16; the scale-out issue's leader lock may take
its place.)
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from storage.db import Sessions
from storage.repositories.leases import LeaseRepository
from storage.types import utcnow

log = logging.getLogger(__name__)


def holder_name() -> str:
    """This process, readable in the table: host, pid and a random part (pids are reused)."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Lease:
    def __init__(self, sessions: Sessions, name: str, *, ttl: timedelta = timedelta(seconds=30),
                 holder: str | None = None, now: Callable[[], datetime] = utcnow) -> None:
        self.sessions, self.name, self.ttl, self.now = sessions, name, ttl, now
        self.holder = holder or holder_name()

    @property
    def renew_every(self) -> float:
        """Seconds between renewals: a third of the lease, so two missed renewals are no loss."""
        return self.ttl.total_seconds() / 3

    async def acquire(self) -> bool:
        """Take or renew the lease; False while another process holds it (or the database
        cannot be reached: better no holder for a while than two)."""
        try:
            async with self.sessions() as session, session.begin():
                now = self.now()
                return await LeaseRepository(session).take(self.name, self.holder, now,
                                                           now + self.ttl)
        except Exception as error:  # a database hiccup: try again at the next renewal
            log.warning("lease %s: %s", self.name, error)
            return False

    async def release(self) -> None:
        async with self.sessions() as session, session.begin():
            await LeaseRepository(session).give_up(self.name, self.holder)
