"""The few statements every event runs, compiled once and run straight on the SQLite connection.

SQLAlchemy spends about 270,000 instructions on executing a statement it has compiled and cached
already (execution options, the cache key, parameter processing, the cursor result, the greenlet
hops each driver call takes); SQLite itself about 50,000. For the statements every event runs (the
redelivery check, the dialog state's saves) this compiles the statement once, for the SQLite
dialect, and runs its SQL on the session's own driver connection, inside the session's transaction
(the sqlite3 module begins it before a write, as it does for SQLAlchemy), with the columns' own bind
processors (JSON, UTC times). Every value is the caller's: Python-side column defaults are not
applied here, so a statement names every column it fills (refused otherwise, on every database).

On any other database the statement goes through the session as usual: asyncpg keeps prepared
statements of its own, and SQLAlchemy's adapter begins the transaction there.
"""

from __future__ import annotations

import sqlite3
import weakref
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Delete, Insert, Update

Statement = Insert | Update | Delete
_Binds = list[tuple[str, Callable[[Any], Any] | None]]


class Prepared:
    """One DML statement (or one per dialect, by name: an upsert is written in each database's
    own words); ``await prepared.run(session, params)`` returns the rows it changed."""

    def __init__(self, statement: Statement | Mapping[str, Statement]) -> None:
        self.statements = statement if isinstance(statement, Mapping) else None
        self.statement = statement if not isinstance(statement, Mapping) else None
        self._compiled: dict[tuple[str, frozenset[str]], tuple[str, _Binds]] = {}

    async def run(self, session: AsyncSession, params: Mapping[str, Any]) -> int:
        dialect, driver = await _connection(session)
        statement = self._for(dialect)
        sql, binds = self._compile(statement, dialect, params)
        if driver is None:
            result = await session.execute(statement, dict(params))
            return result.rowcount  # type: ignore[attr-defined, no-any-return]
        values = [params[name] if process is None else process(params[name]) for name, process in binds]
        try:
            cursor = await driver.execute(sql, values)
        except sqlite3.Error as error:  # as SQLAlchemy raises it (IntegrityError for a duplicate)
            raise DBAPIError.instance(sql, values, error, sqlite3.Error) from error
        return cursor.rowcount  # type: ignore[no-any-return]

    def _for(self, dialect: Dialect) -> Statement:
        if self.statements is None:
            assert self.statement is not None
            return self.statement
        return self.statements[dialect.name]

    def _compile(self, statement: Statement, dialect: Dialect,
                 params: Mapping[str, Any]) -> tuple[str, _Binds]:
        """The SQL for these parameter names and its positional binds with their processors;
        KeyError (on every database alike) for a column left to a Python-side default."""
        key = (dialect.name, frozenset(params))
        found = self._compiled.get(key)
        if found is None:
            compiled = statement.compile(dialect=dialect, column_keys=sorted(key[1]))
            names = compiled.positiontup or []
            missing = set(names) - key[1]  # a column default SQLAlchemy would fill
            if missing:
                raise KeyError(f"no value for {sorted(missing)} in {compiled.string}")
            binds = [(name, compiled.binds[name].type.bind_processor(dialect)) for name in names]
            found = self._compiled[key] = (compiled.string, binds)
        return found


_CONNECTION = "prepared_connection"  # session.info: (its transaction, weakly: no cycle to free
# the session by, then the dialect and the SQLite driver)


async def _connection(session: AsyncSession) -> tuple[Dialect, Any]:
    """The session's dialect and, on SQLite, its driver connection: looked up once a transaction
    (the transaction keeps its connection until it ends)."""
    found = session.info.get(_CONNECTION)
    transaction = session.sync_session.get_transaction()
    if found is not None and transaction is not None and found[0]() is transaction:
        return found[1], found[2]
    connection = await session.connection()
    driver = None
    if connection.dialect.name == "sqlite":
        driver = (await connection.get_raw_connection()).driver_connection
        assert driver is not None
    session.info[_CONNECTION] = (weakref.ref(session.sync_session.get_transaction()),
                                 connection.dialect, driver)
    return connection.dialect, driver
