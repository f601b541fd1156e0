"""The few statements every event runs, compiled once and run straight on the SQLite connection.

SQLAlchemy spends about 270,000 instructions on executing a statement it has compiled and cached
already (execution options, the cache key, parameter processing, the cursor result, the greenlet
hops each driver call takes); SQLite itself about 50,000. For the statements every event runs (the
redelivery check, the sender, the dialog state's saves, the tallies a saved record recounts) this
compiles the statement once, for the SQLite dialect, and runs its SQL on the session's own sqlite3
connection (called inline: ``storage.sqlite_inline``), inside the session's transaction (the
sqlite3 module begins it before a write, as it does for SQLAlchemy), with the columns' own bind and
result processors (JSON, UTC times, enums). Every value is the caller's: Python-side column
defaults are not applied here, so a statement names every column it fills (refused otherwise, on
every database).

On any other database (or SQLite in memory, whose connection lives on aiosqlite's thread) the
statement goes through the session's connection as a Core statement (no autoflush, as on SQLite):
asyncpg keeps prepared statements of its own, and SQLAlchemy's adapter begins the transaction
there.

A query of an entity's columns (``columns_of``) gives its rows back as the session's own
persistent objects (``loaded``), as an ORM query would, at a fraction of the ORM's loading cost.
"""

from __future__ import annotations

import sqlite3
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Column, insert, literal
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.base import instance_state
from sqlalchemy.sql import Delete, Insert, Select, Update
from sqlalchemy.sql.elements import TextClause

from storage.sqlite_inline import InlineSqliteConnection

Statement = Insert | Update | Delete | TextClause
_Process = Callable[[Any], Any] | None


@dataclass(frozen=True)
class _Sql:
    """A statement compiled for one dialect: its SQL, its positional binds with their bind
    processors, and the result processor of each column it selects."""

    sql: str
    binds: list[tuple[str, _Process]]
    results: list[tuple[int, Callable[[Any], Any]]]  # the selected columns that need processing
    constants: dict[str, Any]  # the statement's own values (literals written in it)

    def values(self, params: Mapping[str, Any]) -> list[Any]:
        if self.constants:
            params = {**self.constants, **params}
        return [params[name] if process is None else process(params[name])
                for name, process in self.binds]

    def execute(self, raw: sqlite3.Connection, params: Mapping[str, Any]) -> sqlite3.Cursor:
        values = self.values(params)
        try:
            return raw.execute(self.sql, values)
        except sqlite3.Error as error:  # as SQLAlchemy raises it (IntegrityError for a duplicate)
            raise DBAPIError.instance(self.sql, values, error, sqlite3.Error) from error

    def first(self, raw: sqlite3.Connection, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        values = self.execute(raw, params).fetchone()
        return None if values is None else self.row(values)

    def row(self, values: Sequence[Any]) -> tuple[Any, ...]:
        if not self.results:
            return tuple(values)
        processed = list(values)
        for at, process in self.results:
            value = processed[at]
            if value is not None:
                processed[at] = process(value)
        return tuple(processed)


def _compile(statement: Any, dialect: Dialect, given: frozenset[str] | None = None,
             selected: Sequence[Any] = ()) -> _Sql:
    """Compile for ``dialect``. A bind the caller does not give is a constant of the statement
    (its value baked in); KeyError for one with no value (a column left to a Python-side
    default, a parameter forgotten) and for an IN list to expand (write it as literals)."""
    compiled = statement.compile(dialect=dialect, column_keys=None if given is None else sorted(given))
    binds: list[tuple[str, _Process]] = []
    constants: dict[str, Any] = {}
    for name in compiled.positiontup or []:
        bind = compiled.binds[name]
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        binds.append((name, process))
        if given is not None and name in given:
            continue
        if bind.expanding or bind.required or (bind.value is None and bind.callable is None):
            raise KeyError(f"no value for {name!r} in {compiled.string}")
        constants[name] = bind.effective_value
    processors = [column.type.dialect_impl(dialect).result_processor(dialect, None) for column in selected]
    results = [(at, process) for at, process in enumerate(processors) if process is not None]
    return _Sql(compiled.string, binds, results, constants)


class Prepared:
    """One DML statement; ``await prepared.run(session, params)`` returns the rows it changed
    (``run_sync`` on a connection, from inside a flush or commit hook)."""

    def __init__(self, statement: Statement) -> None:
        self.statement = statement
        self._compiled: dict[tuple[str, frozenset[str]], _Sql] = {}

    async def run(self, session: AsyncSession, params: Mapping[str, Any]) -> int:
        bound = await _connection(session)
        sql = self._sql(bound.dialect, params)  # the same KeyError for a missing column everywhere
        if bound.raw is None:  # on the session's connection, as on SQLite: no autoflush, no ORM
            return (await bound.connection.execute(self.statement, dict(params))).rowcount
        return sql.execute(bound.raw, params).rowcount

    async def inserted(self, session: AsyncSession, params: Mapping[str, Any]) -> int:
        """Run an INSERT of one row; the primary key the database gave it."""
        bound = await _connection(session)
        sql = self._sql(bound.dialect, params)
        if bound.raw is None:
            result = await bound.connection.execute(self.statement, dict(params))
            return int(result.inserted_primary_key[0])  # type: ignore[index]
        cursor = sql.execute(bound.raw, params)
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def run_sync(self, connection: Connection, params: Mapping[str, Any]) -> int:
        raw = _sqlite(connection)
        sql = self._sql(connection.dialect, params)
        if raw is None:
            return connection.execute(self.statement, dict(params)).rowcount  # type: ignore[attr-defined]
        return sql.execute(raw, params).rowcount

    def _sql(self, dialect: Dialect, params: Mapping[str, Any]) -> _Sql:
        """The SQL for these parameter names; KeyError for a column left to a Python-side default
        (a text statement names its parameters itself)."""
        key = (dialect.name, frozenset(params))
        found = self._compiled.get(key)
        if found is None:
            found = self._compiled[key] = _compile(self.statement, dialect, key[1])
        return found


class PreparedQuery:
    """One SELECT; ``first`` and ``all`` return its rows as tuples, each value as its column's
    type reads it (JSON decoded, UTC times, enums). Unlike a query through the session it does not
    flush first: it reads what is written, so it is for reads where nothing is pending."""

    def __init__(self, statement: Select[Any], params: Sequence[str]) -> None:
        self.statement = statement
        self._given = frozenset(params)  # the parameters each call gives
        self._compiled: dict[str, _Sql] = {}

    async def first(self, session: AsyncSession, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        bound = await _connection(session)
        sql = self._sql(bound.dialect)  # compiled on every database alike: the same refusals
        if bound.raw is None:
            return _tuple((await bound.connection.execute(self.statement, dict(params))).first())
        return sql.first(bound.raw, params)

    async def all(self, session: AsyncSession, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        bound = await _connection(session)
        sql = self._sql(bound.dialect)
        if bound.raw is None:
            return [tuple(row) for row in await bound.connection.execute(self.statement, dict(params))]
        return [sql.row(values) for values in sql.execute(bound.raw, params).fetchall()]

    def first_sync(self, connection: Connection, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """``first`` on a connection, from inside a flush or commit hook."""
        raw = _sqlite(connection)
        sql = self._sql(connection.dialect)
        if raw is None:
            return _tuple(connection.execute(self.statement, dict(params)).first())
        return sql.first(raw, params)

    def _sql(self, dialect: Dialect) -> _Sql:
        found = self._compiled.get(dialect.name)
        if found is None:
            found = self._compiled[dialect.name] = _compile(
                self.statement, dialect, self._given, self.statement.selected_columns)
        return found


def _tuple(row: Any) -> tuple[Any, ...] | None:
    return None if row is None else tuple(row)


def one_of(column: Any, values: Iterable[Any]) -> Any:
    """``column IN (…)`` with the values written in the statement, so that it compiles once (an
    IN list of values given at execution is expanded then, and refused here)."""
    return column.in_([literal(value) for value in values])


_Entity = TypeVar("_Entity")


def columns_of(entity: type[Any]) -> list[Column[Any]]:
    """The columns of a mapped class, in the order ``loaded`` takes their values."""
    return [entity.__mapper__.columns[prop.key] for prop in entity.__mapper__.column_attrs]


def loaded(session: AsyncSession | Session, entity: type[_Entity], values: Sequence[Any]) -> _Entity:
    """The session's object for a row of ``columns_of(entity)``: the one it holds already, else
    one made from the values as a query loads it (every column loaded, nothing pending, its
    relationships loaded when first used, as the ORM's lazy loads are)."""
    sync = session.sync_session if isinstance(session, AsyncSession) else session
    mapper = entity.__mapper__  # type: ignore[attr-defined]
    keys = _keys(mapper)
    identity = (mapper._identity_class, tuple(values[at] for at in _primary_key_at(mapper)), None)
    held = sync.identity_map.get(identity)
    if held is not None:
        return held  # type: ignore[no-any-return]
    instance: _Entity = mapper.class_manager.new_instance()
    instance.__dict__.update(zip(keys, values, strict=True))
    # As the ORM's loader attaches a row's new object (sqlalchemy.orm.loading._instance): its
    # identity, its session, into the identity map, and the events a load fires.
    state = instance_state(instance)
    state.key, state.identity_token = identity, None
    _attach(sync, state)
    if mapper.class_manager.dispatch.load:
        state.manager.dispatch.load(state, None)
    if sync.dispatch.loaded_as_persistent:
        sync.dispatch.loaded_as_persistent(sync, state)
    return instance


class PreparedInsert:
    """A new object of ``entity`` written as one plain statement rather than by the unit of work's
    flush (which costs several times the insert itself): ``await insert.add(session, obj)`` fills
    the columns the object leaves unset with their Python-side defaults (as a flush does), writes
    the row, and makes ``obj`` the session's persistent object with its new primary key. Nothing
    the flush's hooks do is done (``storage.tallies``: the caller notes what it inserted)."""

    def __init__(self, entity: type[Any]) -> None:
        self.entity = entity
        table = entity.__table__
        (self._key,) = [column.key for column in table.primary_key.columns]
        self._insert = Prepared(insert(table))
        self._columns = list(zip(_keys(entity.__mapper__), columns_of(entity), strict=True))

    async def add(self, session: AsyncSession, obj: Any) -> None:
        assert type(obj) is self.entity
        values = {key: obj.__dict__[key] if key in obj.__dict__ else _default(column)
                  for key, column in self._columns if key != self._key}
        values[self._key] = await self._insert.inserted(session, values)
        obj.__dict__.update(values)
        make_transient_to_detached(obj)  # its identity, every value as loaded
        _attach(session.sync_session, instance_state(obj))


def _attach(sync: Session, state: Any) -> None:
    """Make ``state`` (an object with its identity) the session's persistent object, as the ORM's
    loader attaches a loaded row's: no ``Session.add``, whose cascade walk costs more than the
    statement, and which would begin the ORM's transaction (``storage.event_session``)."""
    state.session_id = sync.hash_key
    sync.identity_map._add_unpresent(state, state.key)


def _default(column: Column[Any]) -> Any:
    """The value a flush gives a column left unset: its Python-side default, else NULL."""
    default = column.default
    if column.server_default is not None or (default is not None and not (
            default.is_scalar or default.is_callable)):
        raise ValueError(f"{column} has a default only the database or a flush computes")
    if default is None:
        return None
    return default.arg(None) if default.is_callable else default.arg  # type: ignore[attr-defined]


_KEYS: dict[Any, list[str]] = {}
_PRIMARY_KEY_AT: dict[Any, tuple[int, ...]] = {}


def _primary_key_at(mapper: Any) -> tuple[int, ...]:
    """Where the primary key's values are in a row of ``columns_of`` (the identity of the row's
    object is ``(mapper._identity_class, primary key, None)``, as ``Mapper.identity_key_from_primary_key``
    makes it)."""
    found = _PRIMARY_KEY_AT.get(mapper)
    if found is None:
        keys = _keys(mapper)
        found = _PRIMARY_KEY_AT[mapper] = tuple(keys.index(column.key) for column in mapper.primary_key)
    return found


def _keys(mapper: Any) -> list[str]:
    found = _KEYS.get(mapper)
    if found is None:
        found = _KEYS[mapper] = [prop.key for prop in mapper.column_attrs]
    return found


@dataclass(frozen=True)
class _Bound:
    """The session's connection for its transaction: the dialect, the connection, and on a SQLite
    file called inline its sqlite3 connection (None elsewhere)."""

    dialect: Dialect
    connection: AsyncConnection
    raw: sqlite3.Connection | None


_CONNECTION = "prepared_connection"  # session.info: (its transaction, weakly: no cycle to free
# the session by, then its _Bound)
BOUND = "prepared_bound"  # session.info: the _Bound of a session bound to one connection for good


def bind_connection(session: AsyncSession, connection: AsyncConnection) -> None:
    """Run this session's statements on ``connection`` (the session is bound to it), whether or
    not the session has begun a transaction of its own (``storage.event_session``)."""
    session.info[BOUND] = _Bound(connection.dialect, connection, _sqlite(connection.sync_connection))


def bound_connection(session: AsyncSession) -> Connection | None:
    """The connection a session was given by ``bind_connection`` (None: none)."""
    bound: _Bound | None = session.info.get(BOUND)
    return None if bound is None else bound.connection.sync_connection


def raw_connection(session: AsyncSession) -> sqlite3.Connection | None:
    """The sqlite3 connection of a session given one by ``bind_connection`` (None: none)."""
    bound: _Bound | None = session.info.get(BOUND)
    return None if bound is None else bound.raw


async def _connection(session: AsyncSession) -> _Bound:
    """The session's connection, looked up once a transaction (the transaction keeps its
    connection until it ends)."""
    info = session.info
    bound: _Bound | None = info.get(BOUND)
    if bound is not None:
        return bound
    found = info.get(_CONNECTION)
    transaction = session.sync_session.get_transaction()
    if found is not None and transaction is not None and found[0]() is transaction:
        return found[1]  # type: ignore[no-any-return]
    connection = await session.connection()
    bound = _Bound(connection.dialect, connection, _sqlite(connection.sync_connection))
    info[_CONNECTION] = (weakref.ref(session.sync_session.get_transaction()), bound)
    return bound


def _sqlite(connection: Connection) -> sqlite3.Connection | None:
    """The sqlite3 connection under ``connection`` when it is called inline; else None."""
    if connection.dialect.name != "sqlite":
        return None
    driver = connection.connection.driver_connection
    return driver.sqlite if isinstance(driver, InlineSqliteConnection) else None
