"""Core statements compiled once per dialect and run on a pooled DBAPI connection.

The response API's hot path (``services/responses.py``) runs the same few statements on every
request. Through the ORM session a kiosk answer paid about 0.3 ms of CPU under gunicorn for the
session alone (its connection, transaction and commit), and Core's execution context cost about
16 µs per statement against 2 µs for the statement itself on SQLite: together more than the
statements and the validation (bench/ingest.py; bench/README.md has the figures).

Here a statement is still written once with SQLAlchemy Core, so its names come from the models
and its SQL from the dialect. It is compiled once per dialect; its values go through the column
types' own bind and result processors (UTC datetimes, JSON, booleans), as Core would convert
them; and it is executed on the DBAPI connection checked out of the engine's pool
(:func:`connect`). A driver error is raised as SQLAlchemy's (``IntegrityError``,
``OperationalError`` …), as Core raises it, and a connection the driver reports lost is
invalidated, as Core would.

Only statements whose SQL is fixed once compiled can be prepared (no ``IN`` lists expanded per
call, no literal rendering at execution): :class:`Prepared` refuses the others.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Generic

from sqlalchemy import Engine
from sqlalchemy.engine.interfaces import Dialect
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.sql.base import Executable
from typing_extensions import TypeVar

from . import writer_lock

# What a query returns: a tuple of the processed columns unless ``row`` makes something else.
RowT = TypeVar("RowT", default=tuple[Any, ...])
_Processor = Callable[[Any], Any] | None
_GIVEN = object()  # a bind whose value each execution must give


class _Compiled:
    """A statement compiled for one dialect: its SQL, its binds in order, its result columns."""

    def __init__(self, statement: Any, dialect: Dialect, column_keys: Sequence[str] | None) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=column_keys)
        self.sql: str = compiled.string
        if "POSTCOMPILE" in self.sql:
            raise ValueError(f"a statement rendered at execution cannot be prepared: {self.sql}")
        self.positional: bool = compiled.positional
        if compiled.positional:
            names = list(compiled.positiontup or ())
        else:
            names = list(dict.fromkeys(compiled.bind_names.values()))
        # A column's scalar default (``default="pending"``), which Core fills in when the value
        # is not given, and a bind compiled with its value (a LIMIT) are constants. Every other
        # value must be given (_GIVEN), a column whose default Core would compute too (utcnow).
        python_defaults = [
            *((column.key, column.default) for column in compiled.insert_prefetch),
            *((column.key, column.onupdate) for column in compiled.update_prefetch),
        ]
        constants: dict[str, Any] = {
            key: default.arg if default is not None and default.is_scalar else _GIVEN
            for key, default in python_defaults
        }
        self.binds: list[tuple[str, _Processor, Any]] = []
        for name in names:
            bind = compiled.binds[name]
            constant = constants.get(name, _GIVEN if bind.required else bind.effective_value)
            self.binds.append(
                (name, bind.type.dialect_impl(dialect).bind_processor(dialect), constant)
            )
        self.results: list[_Processor] = [
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in statement.exported_columns
        ]

    def parameters(self, values: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        bound: list[Any] = []
        for name, process, constant in self.binds:
            value = values[name] if constant is _GIVEN else values.get(name, constant)
            bound.append(value if process is None else process(value))
        if self.positional:
            return bound
        return {name: value for (name, _, _), value in zip(self.binds, bound, strict=True)}

    def row(self, raw: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(
            value if process is None else process(value)
            for process, value in zip(self.results, raw, strict=True)
        )


class Prepared(Generic[RowT]):
    """A Core statement, compiled on first use for each dialect.

    ``row`` builds what a query returns from the processed columns (e.g. a ``NamedTuple``
    class); ``column_keys`` names the columns an INSERT or UPDATE sets, as ``compile`` takes it.
    """

    def __init__(
        self,
        statement: Executable,
        row: Callable[..., RowT] = lambda *values: values,  # type: ignore[assignment]
        column_keys: Sequence[str] | None = None,
    ) -> None:
        self.statement = statement
        self.make_row = row
        self.column_keys = column_keys
        self._compiled: weakref.WeakKeyDictionary[Dialect, _Compiled] = weakref.WeakKeyDictionary()

    def compiled(self, dialect: Dialect) -> _Compiled:
        found = self._compiled.get(dialect)
        if found is None:
            found = self._compiled[dialect] = _Compiled(self.statement, dialect, self.column_keys)
        return found


class DirectConnection:
    """A DBAPI connection from the engine's pool, running :class:`Prepared` statements.

    Reads outside :meth:`writing` take no lock on SQLite (the connection is in autocommit
    mode: each statement on its own). On PostgreSQL they run in the driver's implicit
    transaction, ended before a write begins.
    """

    def __init__(self, connection: PoolProxiedConnection, dialect: Dialect) -> None:
        self.connection = connection
        self.dialect = dialect

    def first(self, statement: Prepared[RowT], **values: Any) -> RowT | None:
        found = self._rows(statement, values, lambda cursor: cursor.fetchmany(1))
        return found[0] if found else None

    def all(self, statement: Prepared[RowT], **values: Any) -> list[RowT]:
        return self._rows(statement, values, lambda cursor: cursor.fetchall())

    def execute(self, statement: Prepared[Any], **values: Any) -> None:
        compiled = statement.compiled(self.dialect)
        self._cursor(compiled.sql, compiled.parameters(values)).close()

    def execute_many(self, statement: Prepared[Any], rows: Sequence[Mapping[str, Any]]) -> None:
        compiled = statement.compiled(self.dialect)
        for values in rows:
            self._cursor(compiled.sql, compiled.parameters(values)).close()

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """One write transaction: committed when the block ends, rolled back if it raises.

        On SQLite it waits for this process's turn among the API's writers
        (:func:`writer_lock.write_turn`) and takes the write lock up front (BEGIN IMMEDIATE).
        On PostgreSQL it ends the reads' transaction first, so the write's is short.
        """
        driver = self.connection.driver_connection
        assert driver is not None
        turn: contextlib.AbstractContextManager[None]
        if self.dialect.name == "sqlite":
            turn = writer_lock.write_turn(
                self.connection.info, lambda: self._cursor("BEGIN IMMEDIATE", ()).close()
            )
        else:
            self._call(driver.commit)
            turn = contextlib.nullcontext()
        with turn:
            try:
                yield
                self._call(driver.commit)
            except BaseException:
                self._call(driver.rollback)
                raise

    def _rows(
        self,
        statement: Prepared[RowT],
        values: Mapping[str, Any],
        fetch: Callable[[Any], Sequence[Sequence[Any]]],
    ) -> list[RowT]:
        compiled = statement.compiled(self.dialect)
        cursor = self._cursor(compiled.sql, compiled.parameters(values))
        try:
            found = fetch(cursor)
        finally:
            cursor.close()
        return [statement.make_row(*compiled.row(row)) for row in found]

    def _cursor(self, sql: str, parameters: Sequence[Any] | Mapping[str, Any]) -> Any:
        """A cursor that has executed ``sql``; the caller closes it."""
        cursor = self.connection.cursor()
        try:
            cursor.execute(sql, parameters)
        except self.dialect.loaded_dbapi.Error as exc:
            cursor.close()
            raise self._translated(exc, sql, parameters) from exc
        return cursor

    def _call(self, action: Callable[[], Any]) -> None:
        """``commit`` or ``rollback``, its driver error raised as SQLAlchemy's."""
        try:
            action()
        except self.dialect.loaded_dbapi.Error as exc:
            raise self._translated(exc, "", ()) from exc

    def _translated(self, exc: Any, sql: str, parameters: Any) -> StatementError:
        lost = self.dialect.is_disconnect(exc, self.connection.driver_connection, None)
        if lost:
            self.connection.invalidate(exc)
        error: StatementError = DBAPIError.instance(
            sql,
            parameters,
            exc,
            self.dialect.loaded_dbapi.Error,
            connection_invalidated=lost,
            dialect=self.dialect,
        )
        return error


@contextlib.contextmanager
def connect(engine: Engine) -> Iterator[DirectConnection]:
    """Check a connection out of ``engine``'s pool; back in it (rolled back) when done."""
    connection = engine.raw_connection()
    try:
        yield DirectConnection(connection, engine.dialect)
    finally:
        connection.close()
