"""The storage pieces several workers rely on, on SQLite and PostgreSQL: a step's save compares
and sets on the nonce, a first save upserts, a member's updates wait for each other, the inbox
hands out a member's updates in arrival order once, deliverers never take the same message and
never shorten another's lease, old pushes are pruned, a killed connection is not an update's
problem, and the leadership lock (advisory lock or lock file) admits one holder."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from bot.runtime.app import App
from bot.runtime.leadership import Leadership
from handlers.core.events import Incoming
from handlers.core.i18n import DEFAULT_TEXTS as t
from storage.db import session_factory
from storage.locks import lock_member
from storage.models import OutboxMessage, OutboxStatus
from storage.repositories.dialogs import DialogRepository, StaleState
from storage.repositories.events import HandledEventRepository
from storage.repositories.outbox import OutboxRepository, Planned
from storage.types import utcnow


async def test_a_step_saved_over_a_moved_state_is_refused(app: App) -> None:
    sessions = session_factory(app.engine)
    later = utcnow() + timedelta(minutes=5)
    async with sessions() as session, session.begin():
        first = await DialogRepository(session).put("t", "1", dialog="study", step="form", data={},
                                                    expires_at=later)
    async with sessions() as session, session.begin():  # another update moved it on
        await DialogRepository(session).put("t", "1", dialog="study", step="date",
                                            data={"form": "自学"}, expires_at=later, after=first)
    async with sessions() as session, session.begin():
        with pytest.raises(StaleState):
            await DialogRepository(session).put("t", "1", dialog="study", step="date",
                                                data={"form": "读书班"}, expires_at=later,
                                                after=first)
    async with sessions() as session:
        state = await DialogRepository(session).get("t", "1")
    assert state is not None and state.data == {"form": "自学"}


async def test_two_dialogs_started_at_once_do_not_collide(app: App) -> None:
    """Two first saves of one user in two transactions at once: the later one wins, neither
    fails (an upsert, not an insert the unique key refuses)."""
    sessions = session_factory(app.engine)
    later = utcnow() + timedelta(minutes=5)

    async def start(dialog: str) -> None:
        async with sessions() as session, session.begin():
            await DialogRepository(session).put("t", "2", dialog=dialog, step="s", data={},
                                                expires_at=later)

    await asyncio.gather(start("study"), start("visit"))
    async with sessions() as session:
        state = await DialogRepository(session).get("t", "2")
    assert state is not None and state.dialog in ("study", "visit")


async def test_a_members_transactions_wait_for_each_other_on_postgresql(app: App,
                                                                        db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite: one process, one connection")
    sessions = session_factory(app.engine)
    order: list[str] = []
    held = asyncio.Event()

    async def first() -> None:
        async with sessions() as session, session.begin():
            await lock_member(session, "t", "3")
            held.set()
            await asyncio.sleep(0.5)
            order.append("first done")

    async def second() -> None:
        await held.wait()
        async with sessions() as session, session.begin():
            await lock_member(session, "t", "3")
            order.append("second in")

    async def other_member() -> None:
        await held.wait()
        async with sessions() as session, session.begin():
            await lock_member(session, "t", "4")
            order.append("other member in")

    await asyncio.gather(first(), second(), other_member())
    assert order == ["other member in", "first done", "second in"]


async def test_the_inbox_hands_out_a_members_updates_in_arrival_order_once(app: App) -> None:
    sessions = session_factory(app.engine)
    async with sessions() as session, session.begin():
        inbox = HandledEventRepository(session)
        rows = [await inbox.store("t", str(n), "5", {"n": n}) for n in (7, 3, 9)]
        assert await inbox.store("t", "3", "5", {"n": 3}) is None  # a redelivery: not again
        await inbox.store("t", "8", "6", {"n": 8})  # another member's
    taken = []
    for _ in range(4):
        async with sessions() as session, session.begin():
            stored = await HandledEventRepository(session).claim_next("t", "5")
            taken.append(None if stored is None else stored.payload["n"])
    assert taken == [7, 3, 9, None] and all(rows)
    async with sessions() as session, session.begin():  # rolled back: still to handle
        assert (await HandledEventRepository(session).claim_next("t", "6")) is not None
        await session.rollback()
    async with sessions() as session:
        pending = await HandledEventRepository(session).pending_members("t", utcnow())
    assert [user for user, _ in pending] == ["6"]


async def test_handled_events_are_forgotten_but_pending_ones_kept(app: App) -> None:
    sessions = session_factory(app.engine)
    async with sessions() as session, session.begin():
        events = HandledEventRepository(session)
        await events.first_delivery("t", "old")
        await events.store("t", "stored", "7", {"n": 1})
    async with sessions() as session, session.begin():
        assert await HandledEventRepository(session).forget_before(
            utcnow() + timedelta(seconds=1)) == 1
    async with sessions() as session:
        assert [u for u, _ in await HandledEventRepository(session).pending_members(
            "t", utcnow() + timedelta(seconds=1))] == ["7"]


async def _fill(app: App, count: int) -> None:
    async with session_factory(app.engine)() as session, session.begin():
        await OutboxRepository(session).enqueue([
            Planned(f"k{i}", "test", "telegram", str(100 + i), {"text": "x"},
                    utcnow() - timedelta(seconds=1)) for i in range(count)])


async def test_deliverers_never_claim_the_same_message(app: App, db_url: str) -> None:
    await _fill(app, 10)
    sessions = session_factory(app.engine)
    now = utcnow()
    lease = now + timedelta(seconds=60)
    if db_url.startswith("postgresql"):  # both claims at once: the second skips the locked rows
        async with sessions() as one, sessions() as two:
            async with one.begin():
                first = await OutboxRepository(one).claim(now, "telegram", lease, limit=6)
                async with two.begin():
                    second = await OutboxRepository(two).claim(now, "telegram", lease, limit=6)
    else:
        async with sessions() as session, session.begin():
            first = await OutboxRepository(session).claim(now, "telegram", lease, limit=6)
        async with sessions() as session, session.begin():
            second = await OutboxRepository(session).claim(now, "telegram", lease, limit=6)
    assert len(first) == 6 and len(second) == 4
    assert not {m.id for m in first} & {m.id for m in second}


async def test_defer_never_shortens_another_deliverers_lease(app: App) -> None:
    await _fill(app, 1)
    sessions = session_factory(app.engine)
    now = utcnow()
    mine = now + timedelta(seconds=60)
    async with sessions() as session, session.begin():
        (message,) = await OutboxRepository(session).claim(now, "telegram", mine)
    theirs = now + timedelta(seconds=200)  # my lease ran out, another deliverer took it
    async with sessions() as session, session.begin():
        await session.execute(OutboxMessage.__table__.update().values(not_before=theirs))
    async with sessions() as session, session.begin():
        assert not await OutboxRepository(session).defer(message.id, mine, now)
    async with sessions() as session:
        row = await session.get(OutboxMessage, message.id)
    assert row is not None and row.not_before == theirs


async def test_old_pushes_are_pruned_after_the_retention(app: App) -> None:
    await _fill(app, 3)
    sessions = session_factory(app.engine)
    long_ago = utcnow() - timedelta(days=91)
    async with sessions() as session, session.begin():
        table = OutboxMessage.__table__
        await session.execute(table.update().where(table.c.key == "k0").values(
            status=OutboxStatus.sent, sent_at=long_ago, created_at=long_ago))
        await session.execute(table.update().where(table.c.key == "k1").values(
            created_at=long_ago))  # old but never sent: kept
        await session.execute(table.update().where(table.c.key == "k2").values(
            status=OutboxStatus.sent, sent_at=utcnow()))
    async with sessions() as session, session.begin():
        assert await OutboxRepository(session).prune(utcnow() - timedelta(days=90)) == 1
    async with sessions() as session:
        keys = set(await session.scalars(select(OutboxMessage.key)))
    assert keys == {"k1", "k2"}


async def test_connections_killed_between_updates_cost_no_update(app: App, db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("pg_terminate_backend is PostgreSQL's")

    def event(n: int, text_: str) -> Incoming:
        return Incoming(platform="console", user_id="c1", user_name="李娜", chat_id="c1",
                        is_private=True, text=text_, event_id=f"e{n}")

    assert (await app.core.handle(event(1, "/help"))).replies
    async with app.engine.connect() as connection:  # the pool keeps its connection; end it
        await connection.execute(text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
    outcome = await app.core.handle(event(2, "/help"))
    shown = "\n".join(r.text for r in outcome.replies)
    assert shown and t("error.internal") not in shown


async def test_one_holder_of_a_leadership_lock(db_url: str, tmp_path: Path) -> None:
    running: list[str] = []
    released = asyncio.Event()

    def work(name: str):  # type: ignore[no-untyped-def]
        async def hold() -> None:
            running.append(name)
            await released.wait()
        return hold

    one = Leadership(db_url, "test-lock", interval=0.1)
    two = Leadership(db_url, "test-lock", interval=0.1)
    first = asyncio.create_task(one.run(work("one")))
    await asyncio.sleep(0.5)
    second = asyncio.create_task(two.run(work("two")))
    await asyncio.sleep(0.5)
    assert running == ["one"] and one.holding and not two.holding and two.role == "standby"
    first.cancel()  # the holder goes: the stand-by takes over
    await asyncio.gather(first, return_exceptions=True)
    for _ in range(50):
        if running == ["one", "two"]:
            break
        await asyncio.sleep(0.1)
    assert running == ["one", "two"] and two.role == "leader"
    second.cancel()
    await asyncio.gather(second, return_exceptions=True)


async def test_an_answer_lost_with_the_commit_is_still_given(app: App) -> None:
    """The connection drops as COMMIT's answer is on its way: the transaction did commit. Tried
    again, the event is found handled, and the replies computed for it are the answer (no
    silence, no second handling)."""
    from sqlalchemy.exc import DBAPIError

    sessions = app.core.sessions
    failed: list[bool] = []

    class CommitThenLose(sessions.class_):  # type: ignore[name-defined,misc]
        async def commit(self) -> None:
            await super().commit()
            if not failed:
                failed.append(True)
                raise DBAPIError("COMMIT", None, ConnectionResetError("reset"),
                                 connection_invalidated=True)

    app.core.sessions = sessions.__class__(app.engine, class_=CommitThenLose,
                                           expire_on_commit=False,
                                           sync_session_class=sessions.kw["sync_session_class"])
    event = Incoming(platform="console", user_id="c9", user_name="x", chat_id="c9",
                     is_private=True, text="/help", event_id="once")
    try:
        outcome = await app.core.handle(event)
        again = await app.core.handle(event)  # a redelivery: dropped
    finally:
        app.core.sessions = sessions
    assert failed and outcome.replies and outcome.replies[0].text
    assert again.replies == []
