"""Daily tallies: per branch and day, the study and visit figures, kept in step with the records.

The office's roll-up over a year would otherwise add up every record of the year (a million in a
large bureau). ``daily_tallies`` and ``daily_topics`` hold, per (branch, day), what the reports
add up, so the roll-up reads one row a branch a day.

They are derived data and never edited by hand: every transaction that adds, changes or deletes a
study record or a visit recounts, as it commits, each (branch, day) it touched, from the records
themselves (``TalliedSession``); a new study record alone on its day (what a dialog saves) is
added to its day's row instead (``add_study``: the same figures, without reading the day's other
records, so a save costs the same on a day of a thousand records as on an empty one).
``recount_all`` rebuilds everything from the records: after the upgrade that creates the tables,
after a bulk load, or from ``branchbot db recount``. A change to what a day counts
(``storage.vocabulary.GROUP_FORMS``, ``SESSION_FORMS``, ``day_rows``) must come with a migration
that recounts.

What the columns count is defined once, in ``day_rows``; the reports (``handlers.reports.figures``)
add up the same columns, from this table for branches or from ``day_rows`` for one member.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import (
    Date,
    Integer,
    Select,
    bindparam,
    case,
    delete,
    distinct,
    event,
    func,
    insert,
    inspect,
    literal,
    null,
    select,
    text,
    update,
    union_all,
)
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from storage.models import DailyTally, DailyTopic, StudyRecord, Visit
from storage.prepared import Prepared, PreparedQuery, one_of
from storage.vocabulary import CENTRE_GROUP_FORM, GROUP_FORMS, JOINT_FORM, ORG_LIFE_FORMS, READING_CLASS

TALLY_COLUMNS = ("study_minutes", "study_records", "group_sessions", "group_attendances",
                 "reading_days", "reading_attendances", "visits", "solved",
                 "org_life_sessions", "centre_sessions", "joint_sessions", "reading_longest")


# The columns that count a day's sessions, and the forms each counts: a form a day is one session.
SESSION_FORMS: dict[str, tuple[str, ...]] = {
    "group_sessions": GROUP_FORMS, "reading_days": (READING_CLASS,),
    "org_life_sessions": ORG_LIFE_FORMS, "centre_sessions": (CENTRE_GROUP_FORM,),
    "joint_sessions": (JOINT_FORM,)}


def day_rows(study_where: Sequence[Any] = (), visit_where: Sequence[Any] = ()) -> Select[Any]:
    """Per (org_id, day): the ``TALLY_COLUMNS`` of the live (not deleted) study records and visits
    that match the conditions. Group study sessions count distinct forms a day (all group forms,
    and the papers' 三会一课/主题党日, 中心组学习, 联组学习 apart); 人次 count rows; the 读书班's
    longest record says whether the day was a half day."""
    study = select(StudyRecord.org_id.label("org_id"), StudyRecord.study_date.label("day"),
                   StudyRecord.form.label("form"), StudyRecord.minutes.label("minutes"),
                   literal(1).label("is_study"), literal(0).label("is_visit"), literal(0).label("solved")
                   ).where(StudyRecord.deleted_at.is_(None), *study_where)
    visits = select(Visit.org_id, Visit.visit_date, null(), literal(0), literal(0), literal(1),
                    Visit.solved_count).where(Visit.deleted_at.is_(None), *visit_where)
    rows = union_all(study, visits).subquery()
    group, reading = one_of(rows.c.form, GROUP_FORMS), rows.c.form == READING_CLASS

    def sessions_of(column: str) -> Any:
        forms = one_of(rows.c.form, SESSION_FORMS[column])
        return func.count(distinct(case((forms, rows.c.form)))).label(column)

    return (select(rows.c.org_id, rows.c.day,
                   func.coalesce(func.sum(rows.c.minutes), 0).label("study_minutes"),
                   func.coalesce(func.sum(rows.c.is_study), 0).label("study_records"),
                   sessions_of("group_sessions"),
                   func.coalesce(func.sum(case((group, 1), else_=0)), 0).label("group_attendances"),
                   sessions_of("reading_days"),
                   func.coalesce(func.sum(case((reading, 1), else_=0)), 0).label("reading_attendances"),
                   func.coalesce(func.sum(rows.c.is_visit), 0).label("visits"),
                   func.coalesce(func.sum(rows.c.solved), 0).label("solved"),
                   sessions_of("org_life_sessions"), sessions_of("centre_sessions"),
                   sessions_of("joint_sessions"),
                   func.coalesce(func.max(case((reading, rows.c.minutes), else_=0)), 0).label("reading_longest"))
            .group_by(rows.c.org_id, rows.c.day))


def topic_rows(visit_where: Sequence[Any] = ()) -> Select[Any]:
    """Per (org_id, day, topic): the live visits under a (non-empty) research topic."""
    return (select(Visit.org_id.label("org_id"), Visit.visit_date.label("day"), Visit.topic.label("topic"),
                   func.count().label("visits"))
            .where(Visit.deleted_at.is_(None), Visit.topic.is_not(None), Visit.topic != "", *visit_where)
            .group_by(Visit.org_id, Visit.visit_date, Visit.topic))


_ORG, _DAY = bindparam("org_id", type_=Integer), bindparam("day", type_=Date)
_COLUMNS = ", ".join(TALLY_COLUMNS)


def _take_day(then: str) -> Prepared:
    """Take the (org_id, day) row's lock, creating the row if need be, and set ``then`` on a row
    that was there: one statement, so two first records of a day cannot both create it. Plain SQL
    that SQLite and PostgreSQL both speak (their ON CONFLICT constructs in SQLAlchemy cannot be
    cached, and this runs with every record saved)."""
    return Prepared(text(f"INSERT INTO daily_tallies (org_id, day, {_COLUMNS}) "
                         f"VALUES (:org_id, :day{', 0' * len(TALLY_COLUMNS)}) "
                         f"ON CONFLICT (org_id, day) DO UPDATE SET {then}").bindparams(_ORG, _DAY))


_LOCK_DAY = _take_day("study_records = 0")  # to be cleared and counted again
_CLEAR_DAY = Prepared(delete(DailyTally).where(DailyTally.org_id == _ORG, DailyTally.day == _DAY))
_COUNT_DAY = Prepared(insert(DailyTally).from_select(
    ["org_id", "day", *TALLY_COLUMNS],
    day_rows([StudyRecord.org_id == _ORG, StudyRecord.study_date == _DAY],
             [Visit.org_id == _ORG, Visit.visit_date == _DAY])))
_CLEAR_TOPICS = Prepared(delete(DailyTopic).where(DailyTopic.org_id == _ORG, DailyTopic.day == _DAY))
_COUNT_TOPICS = Prepared(insert(DailyTopic).from_select(
    ["org_id", "day", "topic", "visits"], topic_rows([Visit.org_id == _ORG, Visit.visit_date == _DAY])))


# A study record added: its day's row taken (created if need be) without changing it, then the
# record's figures added to it. Its form makes a session of the day only if no other live record
# of that form was there (what day_rows counts, one record at a time; checked once the row is
# held, so on PostgreSQL it sees every record committed before).
_TAKE_DAY = _take_day("study_records = daily_tallies.study_records")  # held, as it was
_OTHER_OF_FORM = PreparedQuery(
    select(StudyRecord.id).where(StudyRecord.org_id == bindparam("record_org"),
                                 StudyRecord.study_date == bindparam("record_day"),
                                 StudyRecord.form == bindparam("record_form"),
                                 StudyRecord.deleted_at.is_(None),
                                 StudyRecord.id != bindparam("record_id")).limit(1),
    ("record_org", "record_day", "record_form", "record_id"))
_TALLY = DailyTally.__table__.c
_ADD_STUDY = Prepared(update(DailyTally).where(
    _TALLY.org_id == bindparam("record_org"), _TALLY.day == bindparam("record_day")).values(
    study_minutes=_TALLY.study_minutes + bindparam("add_minutes", type_=Integer),
    study_records=_TALLY.study_records + 1,
    group_attendances=_TALLY.group_attendances + bindparam("add_group", type_=Integer),
    reading_attendances=_TALLY.reading_attendances + bindparam("add_reading", type_=Integer),
    reading_longest=case((_TALLY.reading_longest < bindparam("reading_minutes", type_=Integer),
                          bindparam("reading_minutes", type_=Integer)), else_=_TALLY.reading_longest),
    **{column: _TALLY[column] + bindparam(f"add_{column}", type_=Integer) for column in SESSION_FORMS}))


def add_study(connection: Connection, record: StudyRecord) -> None:
    """Add one new live study record (written in this transaction) to its day's tallies: what
    ``recount`` of its day would come to, without reading the day's other records."""
    key = {"record_org": record.org_id, "record_day": record.study_date}
    _TAKE_DAY.run_sync(connection, {"org_id": record.org_id, "day": record.study_date})
    form, minutes = record.form, record.minutes or 0
    first = _OTHER_OF_FORM.first_sync(connection, {**key, "record_form": form,
                                                   "record_id": record.id}) is None
    reading = form == READING_CLASS
    _ADD_STUDY.run_sync(connection, {
        **key, "add_minutes": minutes, "add_group": int(form in GROUP_FORMS),
        "add_reading": int(reading), "reading_minutes": minutes if reading else 0,
        **{f"add_{column}": int(first and form in forms) for column, forms in SESSION_FORMS.items()}})


def recount(connection: Connection, keys: Iterable[tuple[int, date]],
            topic_keys: Iterable[tuple[int, date]] | None = None) -> None:
    """Recount the tallies of these (org_id, day)s from the records, as the transaction sees them.

    Each key's row is locked first, and only then counted: the count is a new statement, so on
    PostgreSQL it sees every transaction that held the lock before. Two members saving records of
    the same branch and day at once therefore never lose one. Keys are taken in order, so two
    transactions never wait for each other's locks in a circle. A day left without records loses
    its row. ``topic_keys`` (default: all of ``keys``) are the days whose visits changed, whose
    topics are recounted too.
    """
    keys = set(keys)
    topic_keys = keys if topic_keys is None else set(topic_keys)
    for org_id, day in sorted(keys | topic_keys):
        key = {"org_id": org_id, "day": day}
        for statement in (_LOCK_DAY, _CLEAR_DAY, _COUNT_DAY):
            statement.run_sync(connection, key)
        if (org_id, day) in topic_keys:
            _CLEAR_TOPICS.run_sync(connection, key)
            _COUNT_TOPICS.run_sync(connection, key)


def _lock_tables(connection: Connection) -> None:
    """On PostgreSQL, keep the bot's writers out of the tallies until this transaction ends (on
    SQLite a writing transaction excludes the others anyway)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("LOCK TABLE daily_tallies, daily_topics IN EXCLUSIVE MODE"))


def recount_all(connection: Connection) -> int:
    """Rebuild every tally from the records; the number of (branch, day)s with records. Safe while
    the bot runs: its saves wait for the rebuild, then recount their days as usual."""
    _lock_tables(connection)
    connection.execute(delete(DailyTopic))
    connection.execute(delete(DailyTally))
    connection.execute(insert(DailyTally).from_select(["org_id", "day", *TALLY_COLUMNS], day_rows()))
    connection.execute(insert(DailyTopic).from_select(["org_id", "day", "topic", "visits"], topic_rows()))
    return connection.scalar(select(func.count()).select_from(DailyTally)) or 0


def fill_if_missing(connection: Connection) -> None:
    """Count the tallies of a database that has records but none yet (just upgraded to them)."""
    _lock_tables(connection)
    if connection.scalar(select(DailyTally.org_id).limit(1)) is not None:
        return
    has_records = (connection.scalar(select(StudyRecord.id).limit(1)) is not None
                   or connection.scalar(select(Visit.id).limit(1)) is not None)
    if has_records:
        recount_all(connection)


# Per record class: its day column, and the columns the tallies count.
_COUNTED = {StudyRecord: ("study_date", ("org_id", "study_date", "deleted_at", "form", "minutes")),
            Visit: ("visit_date", ("org_id", "visit_date", "deleted_at", "solved_count", "topic"))}


def _touched_keys(session: Session) -> dict[type, set[tuple[int, date]]]:
    """Per record class, the (org_id, day)s of the records this flush changed, where they were and
    where they are."""
    keys: dict[type, set[tuple[int, date]]] = {StudyRecord: set(), Visit: set()}
    dirty = session.dirty
    for record in (*session.new, *dirty, *session.deleted):
        counted = _COUNTED.get(type(record))
        if counted is None:
            continue
        day_column, columns = counted
        attrs = inspect(record).attrs
        if record in dirty and not any(attrs[c].history.has_changes() for c in columns):
            continue
        org_ids = _every_value(attrs.org_id.history) | {record.org_id}
        days = _every_value(attrs[day_column].history) | {getattr(record, day_column)}
        keys[type(record)].update((org_id, day) for org_id in org_ids for day in days
                                  if org_id is not None and day is not None)
    return keys


def _every_value(history: Any) -> set[Any]:
    return {*history.added, *history.unchanged, *history.deleted}


class TalliedSession(Session):
    """The ORM session every part of branchbot uses: it keeps the daily tallies in step.

    Each flush notes the days its records were and are on; the commit recounts them all at once,
    in key order. So the day locks are taken last and held only while committing: a transaction
    that flushes several times (a meeting crediting guests of other branches) never holds one
    day while waiting for another.
    """


_PENDING = "tallies_pending"


def _pending(session: Session) -> dict[type, set[tuple[int, date]]]:
    return session.info.setdefault(_PENDING, {StudyRecord: set(), Visit: set()})  # type: ignore[no-any-return]


@event.listens_for(TalliedSession, "after_flush")
def _note_touched(session: Session, _context: Any) -> None:
    pending = _pending(session)
    for kind, touched in _touched_keys(session).items():
        pending[kind] |= touched


_ADDED = "tallies_added"  # session.info: the new study records written by PreparedInsert


def note_inserted(session: AsyncSession, record: object) -> None:
    """A record written around the flush (``storage.prepared.PreparedInsert``): at commit its day
    is recounted as a flushed record's is, or, a live study record alone on its day in this
    transaction, added to the day's tallies (``add_study``)."""
    sync = session.sync_session
    if isinstance(record, StudyRecord) and record.deleted_at is None:
        sync.info.setdefault(_ADDED, []).append(record)
        return
    counted = _COUNTED.get(type(record))
    if counted is not None:
        day = getattr(record, counted[0])
        _pending(sync)[type(record)].add((record.org_id, day))  # type: ignore[attr-defined]


def settle(connection: Connection, recounted: set[tuple[int, date]], topics: set[tuple[int, date]],
           added: Sequence[StudyRecord]) -> None:
    """Bring the tallies of the days this transaction touched up to date, in key order: the new
    study records alone on their day (and nothing else of theirs changed) added, the rest
    recounted."""
    by_day: dict[tuple[int, date], list[StudyRecord]] = {}
    for record in added:
        by_day.setdefault((record.org_id, record.study_date), []).append(record)
    alone = {key: records[0] for key, records in by_day.items()
             if len(records) == 1 and key not in recounted and key not in topics}
    recounted = recounted | (by_day.keys() - alone.keys())
    for key in sorted(recounted | topics | alone.keys()):
        if key in alone:
            add_study(connection, alone[key])
        else:
            recount(connection, {key} & recounted, topic_keys={key} & topics)


@event.listens_for(TalliedSession, "before_commit")
def _recount_pending(session: Session) -> None:
    session.flush()  # the commit would flush after this hook: its records must be counted too
    pending = _pending(session)
    del session.info[_PENDING]
    added = session.info.pop(_ADDED, [])
    if pending[StudyRecord] or pending[Visit] or added:
        settle(session.connection(), pending[StudyRecord], pending[Visit], added)


def settle_noted(session: Session, connection: Connection) -> None:
    """What ``note_inserted`` noted, settled on ``connection``, for a transaction whose commit is
    not the ORM's (``storage.event_session``: the ORM had nothing to do, so its hooks do not run)."""
    pending = session.info.pop(_PENDING, None)
    added = session.info.pop(_ADDED, [])
    recounted, topics = (pending[StudyRecord], pending[Visit]) if pending else (set(), set())
    if recounted or topics or added:
        settle(connection, recounted, topics, added)


@event.listens_for(TalliedSession, "after_rollback")
def forget_noted(session: Session) -> None:
    """What the transaction noted goes with it (also for a rollback the ORM had no part in)."""
    session.info.pop(_PENDING, None)
    session.info.pop(_ADDED, None)
