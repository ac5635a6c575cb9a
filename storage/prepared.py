"""Statements every ack runs, run straight on the database driver.

SQLAlchemy's work per execution (the statement's cache key, an execution context, the result
wrapping, its events) costs about 55 µs a statement on this project's machines, against 2 µs
for SQLite to answer the same query; a kudos runs about fourteen. `Prepared` keeps what
SQLAlchemy is good at (the statement built with Core, compiled for the dialect, the column types
that turn values into what the driver takes and back) and skips the rest: it compiles once per
dialect, set of parameters and IN-list length, then runs on the DBAPI cursor of the session's
own connection, inside its transaction. Errors come out as SQLAlchemy's, as from `execute`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Delete, Insert, Update, bindparam
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import Executable, visitors
from sqlalchemy.sql.elements import BindParameter
from sqlmodel import Session

Processor = Callable[[Any], Any] | None

# Rows per statement of a multi-row INSERT (PostgreSQL): a few hundred parameters, far below its
# limit of 65,535, and few sizes to compile.
MANY_ROWS = 100


@dataclass
class _Compiled:
    sql: str
    names: tuple[str, ...]
    """The parameters in the order the SQL takes them (IN lists expanded)."""
    pairs: tuple[tuple[str, Processor], ...]
    """Each parameter's name, with what turns its value into the driver's."""
    defaults: Mapping[str, Any]
    """Columns the statement sets that the call left out: their Python-side defaults."""
    result_types: tuple[Any, ...]
    """The returned columns' types, for this dialect."""
    dialect: Dialect
    positional: bool
    lists: tuple[str, ...]
    _results: tuple[Processor, ...] | None = None

    def results(self, description: Sequence[Any]) -> tuple[Processor, ...]:
        """What turns each returned value into the column type's, made on the first rows read:
        some drivers' processors depend on the type the server says it sent (PostgreSQL's
        numbers), which only the cursor's description tells."""
        if self._results is None:
            self._results = tuple(
                kind.result_processor(self.dialect, column[1])
                for kind, column in zip(self.result_types, description, strict=True)
            )
        return self._results


class Prepared:
    """A Core statement (SELECT, INSERT, UPDATE or DELETE) for the ack's hot path. Parameters
    are bound by name as with `Connection.execute`; an expanding `bindparam` takes a list."""

    def __init__(self, statement: Executable, each_row: Mapping[str, Any] | None = None) -> None:
        """`each_row`: for an INSERT, SQL it sets in every row (the server's clock, say)."""
        self._each_row = dict(each_row or {})
        self._insert = statement if isinstance(statement, Insert) else None
        self._statement = statement.values(**self._each_row) if self._each_row else statement
        self._compiled: dict[tuple[Any, ...], _Compiled] = {}
        self._lists = frozenset(
            element.key
            for element in visitors.iterate(statement)
            if isinstance(element, BindParameter) and element.expanding
        )
        self._multi_row: dict[tuple[tuple[str, ...], int], Prepared] = {}

    def rows(self, session: Session, parameters: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """The rows it returns (a SELECT's, or RETURNING's), as the column types read them."""
        compiled, cursor = self._execute(session, parameters)
        rows = cursor.fetchall()
        results = compiled.results(cursor.description)
        if not any(results):
            return [tuple(row) for row in rows]
        return [
            tuple(v if p is None else p(v) for v, p in zip(row, results, strict=True))
            for row in rows
        ]

    def run(self, session: Session, parameters: Mapping[str, Any]) -> int:
        """Runs a write that returns nothing; how many rows it touched."""
        _, cursor = self._execute(session, parameters)
        return int(cursor.rowcount)

    def run_many(self, session: Session, parameters: Sequence[Mapping[str, Any]]) -> None:
        """Runs a write that returns nothing once per set of parameters (all with the same
        names): an INSERT as multi-row INSERTs, anything else in one driver call."""
        if not parameters:
            return
        dialect, driver = _driver(session)
        if self._insert is not None and _one_statement_per_row(dialect):
            for statement, flat in self._multi_rows(parameters):
                statement.run(session, flat)
            return
        compiled = self._compile(dialect, parameters[0])
        values = [_values(compiled, p) for p in parameters]
        cursor = driver.cursor()
        try:
            cursor.executemany(compiled.sql, values)
        except dialect.loaded_dbapi.Error as error:
            raise _wrapped(compiled, values, error, dialect) from error

    def rows_many(
        self, session: Session, parameters: Sequence[Mapping[str, Any]]
    ) -> list[tuple[Any, ...]]:
        """An INSERT … RETURNING of many rows (each set of parameters with the same names): the
        rows it returns, in no promised order. On PostgreSQL, `MANY_ROWS` to a statement."""
        if not parameters:
            return []
        if not _one_statement_per_row(session.get_bind().dialect):
            return [found for row in parameters for found in self.rows(session, row)]
        found: list[tuple[Any, ...]] = []
        for statement, flat in self._multi_rows(parameters):
            found.extend(statement.rows(session, flat))
        return found

    def _multi_rows(
        self, parameters: Sequence[Mapping[str, Any]]
    ) -> Iterator[tuple[Prepared, dict[str, Any]]]:
        """Each multi-row INSERT the rows take, with its parameters: `name__0`, `name__1`, …"""
        if self._insert is None:
            raise TypeError("many rows at once are for INSERT statements")
        names = tuple(parameters[0])
        for start in range(0, len(parameters), MANY_ROWS):
            chunk = parameters[start : start + MANY_ROWS]
            flat = {f"{name}__{n}": row[name] for n, row in enumerate(chunk) for name in names}
            yield self._rows_of(self._insert, names, len(chunk)), flat

    def _rows_of(self, insert: Insert, names: tuple[str, ...], count: int) -> Prepared:
        """This INSERT with `count` rows of parameters."""
        multi = self._multi_row.get((names, count))
        if multi is None:
            types = {name: insert.table.c[name].type for name in names}
            rows = [
                {name: bindparam(f"{name}__{n}", type_=types[name]) for name in names}
                | self._each_row
                for n in range(count)
            ]
            multi = Prepared(insert.values(rows))
            self._multi_row[(names, count)] = multi
        return multi

    def _execute(self, session: Session, parameters: Mapping[str, Any]) -> tuple[_Compiled, Any]:
        dialect, driver = _driver(session)
        compiled = self._compile(dialect, parameters)
        values = _values(compiled, parameters)
        cursor = driver.cursor()
        try:
            cursor.execute(compiled.sql, values)
        except dialect.loaded_dbapi.Error as error:
            raise _wrapped(compiled, values, error, dialect) from error
        return compiled, cursor

    def _compile(self, dialect: Dialect, parameters: Mapping[str, Any]) -> _Compiled:
        lengths = tuple(len(parameters[name]) for name in self._lists)
        key = (dialect.name, dialect.driver, tuple(parameters), lengths)
        compiled = self._compiled.get(key)
        if compiled is None:
            lists = {name: len(parameters[name]) for name in self._lists}
            compiled = _compile(self._statement, dialect, parameters, lists)
            self._compiled[key] = compiled
        return compiled


def _one_statement_per_row(dialect: Dialect) -> bool:
    """psycopg sends each row of an `executemany` as a statement of its own, which the server
    parses, plans and answers: many rows go faster as one multi-row INSERT. pysqlite steps one
    prepared statement per row, in C, which costs SQLite less than a multi-row VALUES does
    (217 against 391 µs for an index's sixteen rows, measured)."""
    return dialect.name == "postgresql"


def _driver(session: Session) -> tuple[Dialect, Any]:
    """The dialect and the driver's connection, inside the session's transaction (begun now
    if it was not yet: on SQLite that is the BEGIN IMMEDIATE of `Database.transaction`). Rows
    added through the ORM are flushed first, as `Session.execute` would, so the statement sees
    them."""
    if session.autoflush:
        session.flush()
    connection = session.connection()
    return connection.dialect, connection.connection.driver_connection


def _compile(
    statement: Any, dialect: Dialect, parameters: Mapping[str, Any], lists: Mapping[str, int]
) -> _Compiled:
    if lists:
        # IN lists rendered with one parameter per element: `ids_1`, `ids_2`, …
        statement = visitors.replacement_traverse(statement, {}, _sized(lists))
    kind = _writes(statement)
    if kind == "update" and any(c.onupdate is not None for c in statement.table.c):
        raise TypeError("prepared UPDATEs do not fill `onupdate` defaults; use execute")
    compiled = statement.compile(
        dialect=dialect,
        column_keys=list(parameters) if kind is not None else None,
        compile_kwargs={"render_postcompile": True},
    )
    binds = compiled.binds
    names: list[str] = []
    processors: list[Processor] = []
    defaults: dict[str, Any] = {}
    for name in _bind_names(compiled):
        base = name.rpartition("_")[0] if name not in binds else name
        names.append(name)
        # An IN list's elements take the type of the list's parameter.
        processors.append(binds[base].type.dialect_impl(dialect).bind_processor(dialect))
        if base not in parameters and base not in lists:
            defaults[name] = _default(statement, kind, binds[base])
    result_types = tuple(column.type.dialect_impl(dialect) for column in statement.exported_columns)
    return _Compiled(
        sql=compiled.string,
        names=tuple(names),
        pairs=tuple(zip(names, processors, strict=True)),
        defaults=defaults,
        result_types=result_types,
        dialect=dialect,
        positional=compiled.positional,
        lists=tuple(lists),
    )


def _sized(lists: Mapping[str, int]) -> Callable[[Any], Any]:
    """Gives each IN list's parameter a list of its length, for SQLAlchemy to render (and the
    other parameters a placeholder value, so that rendering does not ask for theirs)."""

    def replace(element: Any) -> Any:
        if not isinstance(element, BindParameter):
            return None
        if element.key in lists:
            size = lists[element.key]
            return bindparam(element.key, [None] * size, expanding=True, type_=element.type)
        if element.required:
            return bindparam(element.key, None, type_=element.type)
        return None  # a value the statement holds

    return replace


def _bind_names(compiled: Any) -> list[str]:
    """The parameters the SQL takes: in order (qmark), or as named in it (pyformat)."""
    if compiled.positional:
        return list(compiled.positiontup)
    return list(dict.fromkeys(_PYFORMAT.findall(compiled.string)))


_PYFORMAT = re.compile(r"%\(([^)]+)\)s")


def _writes(statement: Any) -> str | None:
    if isinstance(statement, Insert):
        return "insert"
    if isinstance(statement, Update):
        return "update"
    if isinstance(statement, Delete):
        return "delete"
    return None


def _default(statement: Any, kind: str | None, bind: BindParameter[Any]) -> Any:
    """The value of a parameter the call left out: for an INSERT, its column's Python-side
    default, as SQLAlchemy would fill it; else the value the statement holds."""
    column = statement.table.c.get(bind.key) if kind == "insert" else None
    default = None if column is None else column.default
    if default is not None and default.is_scalar:
        return default.arg
    if default is not None:
        # Computed per row (a function, SQL): compiled once, it would be the same every time.
        raise TypeError(f"the default of {bind.key!r} is computed; pass the value")
    if bind.required:
        raise TypeError(f"no value for the parameter {bind.key!r} of a prepared statement")
    return bind.effective_value


def _values(compiled: _Compiled, parameters: Mapping[str, Any]) -> Any:
    given = parameters
    if compiled.lists or compiled.defaults:
        given = {**compiled.defaults, **parameters}
        for name in compiled.lists:
            given.update((f"{name}_{n}", v) for n, v in enumerate(given.pop(name), start=1))
    values = [given[n] if p is None else p(given[n]) for n, p in compiled.pairs]
    return values if compiled.positional else dict(zip(compiled.names, values, strict=True))


def _wrapped(compiled: _Compiled, values: Any, error: Exception, dialect: Dialect) -> DBAPIError:
    return DBAPIError.instance(
        compiled.sql, values, error, dialect.loaded_dbapi.Error, dialect=dialect
    )
