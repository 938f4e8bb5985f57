#!/usr/bin/env python3
"""Read the trading app's own database, read-only, one consistent snapshot per source.

A *source* (``../shared/spec/app-database.md``, rule R9.1) is one of

- a raw folder of exports (kind ``folder``: returned by ``parse_spec`` but read by
  ``scripts/load_raw.py``, not here);
- the app's SQLite file: ``sqlite:///data/app.db`` (SQLAlchemy form: three
  slashes and a relative path, four for an absolute one, ``sqlite:///./data/app.db``
  as in the app's ``DB_URL``), or a plain path to a SQLite file (``app.db.bak.*``);
- a live PostgreSQL database: ``postgresql://user@host:port/db``, also the app's
  ``postgresql+psycopg2://user:PASSWORD@host:port/db`` (the driver is dropped; a
  password in the URL is never printed: ``***`` in every message; prefer
  ``PGPASSWORD`` or ``~/.pgpass``, which libpq reads by itself);
- a ``pg_dump`` backup: plain ``.sql``, gzipped ``.sql.gz`` (read without a
  server: the ``COPY ... FROM stdin`` blocks are parsed) or custom format
  (``-F c``, recognised by its ``PGDMP`` magic, read through ``pg_restore -f -``).

``name=SPEC`` names a source (``old=sqlite:///old/app.db``); otherwise the name is
derived from the spec (``app_db`` for ``app.db``, the database name, the dump's
file stem).

Tables read: ``orders``, ``positions`` and, where present, ``fills``, with
explicit column lists (never ``select *``; ``users`` and ``usersettings``, which
hold password hashes and broker credentials, are never touched). Every value
comes back as text, the way the loader stores raw values (see ``to_text``),
rows in ``id`` order, with a row count and a SHA-256 content hash computed while
the rows are read (``SourceTable``).

CLI::

    python scripts/app_sources.py SPEC [--table orders] [--limit 5] [--debug]

Exit codes: 0 every table read, 1 some table refused, 2 bad spec, missing file,
unreachable server or unreadable dump (one line on stderr; ``--debug`` shows the
traceback).
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import heapq
import itertools
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import urllib.parse
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Callable, Iterable, Iterator, Optional, TextIO

# ---------------------------------------------------------------- tables and columns
# The column lists are load_raw.py's ORDER_COLUMNS / POSITION_COLUMNS (a test keeps
# them equal), so a source table maps 1:1 onto raw.orders / raw.positions.
ORDER_COLUMNS = (
    "id", "user_id", "symbol", "side", "order_type", "quantity", "price", "status",
    "avg_price", "placed_at", "updated_at", "filled_at", "closed_at", "orig_source",
    "order_id", "broker_order_id", "metadata", "reason", "failure_reason",
    "rejection_reason", "cancelled_reason", "execution_price", "execution_qty",
    "execution_time", "entry_type", "trade_mode", "retry_count", "first_failed_at",
    "last_retry_attempt", "last_status_check", "base_symbol",
)
POSITION_COLUMNS = (
    "id", "user_id", "symbol", "quantity", "avg_price", "unrealized_pnl", "opened_at",
    "closed_at", "reentry_count", "reentries", "initial_entry_price", "last_reentry_price",
    "entry_rsi", "exit_price", "exit_reason", "exit_rsi", "realized_pnl",
    "realized_pnl_pct", "sell_order_id",
)
FILL_COLUMNS = (
    "id", "order_id", "user_id", "quantity", "price", "fill_value", "charges",
    "filled_at", "created_at", "broker_fill_id",
)


@dataclass(frozen=True)
class TableSpec:
    name: str
    columns: tuple[str, ...]
    required: tuple[str, ...]
    optional: bool  # absent table: skipped (True) or refused (False)


TABLES = {
    "orders": TableSpec("orders", ORDER_COLUMNS,
                        ("id", "user_id", "symbol", "side", "quantity", "status", "placed_at"), False),
    "positions": TableSpec("positions", POSITION_COLUMNS, ("id", "user_id", "symbol"), False),
    "fills": TableSpec("fills", FILL_COLUMNS, ("order_id", "quantity", "price", "filled_at"), True),
}

# Kinds of the known columns: used where the engine gives no type (a dump without
# its CREATE TABLE, an untyped SQLite column).
TIMESTAMP_COLUMNS = frozenset({
    "placed_at", "updated_at", "filled_at", "closed_at", "execution_time", "first_failed_at",
    "last_retry_attempt", "last_status_check", "opened_at", "created_at",
})
FLOAT_COLUMNS = frozenset({
    "quantity", "price", "avg_price", "execution_price", "execution_qty", "unrealized_pnl",
    "initial_entry_price", "last_reentry_price", "entry_rsi", "exit_price", "exit_rsi",
    "realized_pnl", "realized_pnl_pct", "fill_value", "charges",
})

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDMP_MAGIC = b"PGDMP"
GZIP_MAGIC = b"\x1f\x8b"
NAME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9_]*)=(.+)$", re.S)
SORT_CHUNK_ROWS = 50_000  # dumps: rows sorted in memory at a time (then merged from temp files)


class SourceError(Exception):
    """A source that cannot be read at all; the message is one line, passwords redacted."""


class RefusedTable(SourceError):
    """A table of a source that cannot be read (missing, or without a required column)."""

    def __init__(self, source: str, table: str, problem: str) -> None:
        super().__init__(f"refused {source}.{table}: {problem}")
        self.source = source
        self.table = table
        self.problem = problem


# ---------------------------------------------------------------- values as text
_TS_TEXT = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?$")


def float_text(value: float) -> str:
    """Shortest round-trip text of a float; integral values (below 1e16) without ``.0``."""
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    if value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return repr(value)


def timestamp_text(text: str) -> str:
    """Naive ISO text in the canonical form ``YYYY-MM-DD HH:MM:SS[.ffffff]`` (fraction only
    when not zero, always six digits). Anything else (an offset, a date, garbage) is
    returned unchanged: staging parses or quarantines it (R6)."""
    match = _TS_TEXT.match(text)
    if not match:
        return text
    day, clock, fraction = match.groups()
    if fraction and int(fraction):
        return f"{day} {clock}.{fraction.ljust(6, '0')}"
    return f"{day} {clock}"


def to_text(value: object, kind: str = "text") -> Optional[str]:
    """One value as the loader's raw text.

    NULL -> None; integers -> decimal digits; floats -> ``float_text``; timestamps
    (``datetime`` values, or text in a timestamp column) -> ``timestamp_text`` (naive,
    as stored, no time-zone conversion); Decimal -> its text; booleans -> ``true`` /
    ``false``; JSON, enums and strings -> their text as stored. ``kind`` (``text``,
    ``int``, ``float``, ``timestamp``, ``bool``) says how to read text values that come
    untyped (SQLite's dynamic typing, pg_dump's COPY text).
    """
    if value is None:
        return None
    if isinstance(value, str):
        if kind == "timestamp":
            return timestamp_text(value)
        if kind == "float":
            try:
                return float_text(float(value))
            except ValueError:
                return value
        if kind == "bool" and value in ("t", "f"):
            return "true" if value == "t" else "false"
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return float_text(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "\\x" + bytes(value).hex()
    return str(value)


class RowHasher:
    """SHA-256 over a table's content: the JSON list of its column names, then each row
    as a compact JSON list of text or null, each followed by a newline, UTF-8."""

    def __init__(self, columns: Iterable[str]) -> None:
        self._sha = hashlib.sha256()
        self._encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
        self._sha.update(self._encode(list(columns)).encode("utf-8") + b"\n")
        self.rows = 0

    def add(self, row: tuple[Optional[str], ...]) -> None:
        self._sha.update(self._encode(row).encode("utf-8") + b"\n")
        self.rows += 1

    def hexdigest(self) -> str:
        return self._sha.hexdigest()


def content_hash(columns: Iterable[str], rows: Iterable[tuple[Optional[str], ...]]) -> str:
    """The content hash of rows given in order (the definition ``SourceTable`` uses)."""
    hasher = RowHasher(columns)
    for row in rows:
        hasher.add(tuple(row))
    return hasher.hexdigest()


# ---------------------------------------------------------------- specs
@dataclass(frozen=True)
class SourceSpec:
    """A parsed source spec. ``display`` is safe to print (no password)."""

    name: str
    kind: str  # folder | sqlite | postgresql | dump_plain | dump_gzip | dump_custom
    location: str = field(repr=False)  # a path, or the libpq URL (may hold a password)
    display: str = ""
    password: Optional[str] = field(default=None, repr=False)

    def redact(self, text: str) -> str:
        return redact(text, self.password)


def redact(text: str, password: Optional[str]) -> str:
    """``text`` with every form of ``password`` (as typed, URL-encoded) replaced by ``***``."""
    if not password:
        return text
    for form in {password, urllib.parse.quote(password, safe=""), urllib.parse.quote(password)}:
        if form:
            text = text.replace(form, "***")
    return text


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    return slug or "source"


def _dump_stem(path: Path) -> str:
    name = path.name
    for suffix in (".sql.gz", ".dump.gz", ".sql", ".dump", ".backup", ".pgdump", ".gz", ".custom"):
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def _file_kind(path: Path) -> str:
    with path.open("rb") as handle:
        head = handle.read(16)
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PGDMP_MAGIC):
        return "dump_custom"
    if head.startswith(GZIP_MAGIC):
        return "dump_gzip"
    return "dump_plain"


def _postgres_spec(name: Optional[str], text: str) -> SourceSpec:
    parts = urllib.parse.urlsplit(text)
    scheme = parts.scheme.split("+", 1)[0].lower()
    if scheme not in ("postgresql", "postgres"):
        raise SourceError(f"unsupported URL scheme {parts.scheme!r}")
    password = urllib.parse.unquote(parts.password) if parts.password is not None else None
    user = urllib.parse.unquote(parts.username) if parts.username else ""
    try:
        port = parts.port
    except ValueError:
        raise SourceError(f"bad port in {redact(text, password)}") from None
    host = parts.hostname or ""
    database = urllib.parse.unquote(parts.path.lstrip("/")) or user or os.environ.get("PGDATABASE", "")
    netloc_safe = ""
    if user:
        netloc_safe = urllib.parse.quote(user, safe="") + (":***" if password is not None else "") + "@"
    netloc_safe += (f"[{host}]" if ":" in host else host) + (f":{port}" if port else "")
    display = f"postgresql://{netloc_safe}/{urllib.parse.quote(database)}"
    location = urllib.parse.urlunsplit(("postgresql", parts.netloc, parts.path, parts.query, ""))
    return SourceSpec(name or _slug(database or "postgresql"), "postgresql", location, display, password)


def parse_spec(text: str, base_dir: Optional[Path] = None) -> SourceSpec:
    """Parse ``[name=]SPEC``; raises SourceError (one line, redacted) for a bad spec or
    a path that does not exist. Relative paths are taken from ``base_dir`` (default:
    the current folder)."""
    name: Optional[str] = None
    match = NAME_RE.match(text)
    if match and "://" not in match.group(1):
        name, text = match.group(1), match.group(2)
    base = base_dir or Path.cwd()
    lowered = text.lower()
    if lowered.startswith(("postgresql", "postgres:")) and "://" in text:
        return _postgres_spec(name, text)
    if lowered.startswith("sqlite"):
        prefix = re.match(r"^sqlite(\+\w+)?:///", text, re.I)
        if not prefix:
            raise SourceError(f"bad SQLite URL {text!r}: expected sqlite:///relative/path or sqlite:////absolute/path")
        raw_path = urllib.parse.unquote(text[prefix.end():].split("?", 1)[0])
        if not raw_path or raw_path == ":memory:":
            raise SourceError(f"bad SQLite URL {text!r}: no database file")
        path = Path(raw_path)
        path = path if path.is_absolute() else base / path
        if not path.is_file():
            hint = "" if raw_path.startswith("/") else \
                " (sqlite:/// paths are relative; use sqlite://// for an absolute path)"
            raise SourceError(f"{text}: no such file {path}{hint}")
        if _file_kind(path) != "sqlite":
            raise SourceError(f"{text}: {path} is not a SQLite database")
        return SourceSpec(name or _slug(path.name), "sqlite", str(path), f"sqlite:///{path}")
    if re.match(r"^[a-z][a-z0-9+.-]*://", lowered):
        raise SourceError(f"unsupported source {text.split('://', 1)[0]}:// (expected a raw folder,"
                          " sqlite:///..., postgresql://... or a pg_dump file)")
    path = Path(text)
    path = path if path.is_absolute() else base / path
    if path.is_dir():
        return SourceSpec(name or _slug(path.resolve().name), "folder", str(path), str(path))
    if not path.is_file():
        raise SourceError(f"{text}: no such file or folder")
    kind = _file_kind(path)
    default = _slug(path.name) if kind == "sqlite" else _slug(_dump_stem(path))
    return SourceSpec(name or default, kind, str(path), str(path))


# ---------------------------------------------------------------- table objects
class SourceTable:
    """One table of one source snapshot.

    ``columns``: the known columns of the table (always all of them, in the loader's
    order; absent ones are NULL) followed by ``extra_columns`` (columns the warehouse
    does not know, in the source's order). ``present_columns``: the known columns the
    source has. ``row_count``: rows in the snapshot. ``rows()``: an iterator of tuples of
    str | None in ``id`` order; once it has been read to the end, ``content_hash`` (see
    ``RowHasher``) is set. ``scan()`` reads the rows only to compute the hash.
    """

    def __init__(self, source: str, table: str, columns: tuple[str, ...], present: tuple[str, ...],
                 extra: tuple[str, ...], row_count: int,
                 produce: Callable[[], Iterator[tuple[Optional[str], ...]]]) -> None:
        self.source = source
        self.table = table
        self.columns = columns
        self.present_columns = present
        self.extra_columns = extra
        self.row_count = row_count
        self.content_hash: Optional[str] = None
        self._produce = produce

    def rows(self) -> Iterator[tuple[Optional[str], ...]]:
        hasher = RowHasher(self.columns)
        for row in self._produce():
            hasher.add(row)
            yield row
        if hasher.rows != self.row_count:
            raise SourceError(f"{self.source}.{self.table}: read {hasher.rows} rows, expected {self.row_count}")
        self.content_hash = hasher.hexdigest()

    def scan(self) -> str:
        for _ in self.rows():
            pass
        assert self.content_hash is not None
        return self.content_hash

    def __repr__(self) -> str:
        return f"SourceTable({self.source}.{self.table}, {self.row_count} rows)"


def _layout(source: str, spec: TableSpec, available: list[str]) -> tuple[tuple[str, ...], tuple[str, ...],
                                                                        tuple[str, ...], dict[str, str]]:
    """(columns, present, extra, output column -> source column) for a table whose source
    columns are ``available``; RefusedTable when a required column is missing."""
    by_lower: dict[str, str] = {}
    for column in available:
        by_lower.setdefault(column.lower(), column)
    missing = [c for c in spec.required if c not in by_lower]
    if missing:
        raise RefusedTable(source, spec.name, f"missing required column(s) {', '.join(missing)}"
                                              f" (has: {', '.join(available)})")
    present = tuple(c for c in spec.columns if c in by_lower)
    known = set(spec.columns)
    extra = tuple(c for c in available if c.lower() not in known and by_lower[c.lower()] == c)
    mapping = {c: by_lower[c] for c in present}
    mapping.update({c: c for c in extra})
    return spec.columns + extra, present, extra, mapping


# ---------------------------------------------------------------- sources
class Source:
    """An open, read-only snapshot of one source. Use as a context manager."""

    kind = ""

    def __init__(self, spec: SourceSpec) -> None:
        self.spec = spec
        self.name = spec.name
        self.display_name = spec.display
        self.sql_log: list[str] = []  # every SQL statement issued (SQLite, PostgreSQL)

    def __enter__(self) -> "Source":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name}={self.display_name})"

    def close(self) -> None:  # pragma: no cover - overridden
        pass

    def tables_present(self) -> list[str]:
        """Which of orders, positions, fills the source has."""
        raise NotImplementedError

    def table(self, name: str) -> SourceTable:
        """The table ``name`` (orders, positions, fills); RefusedTable when it cannot be read."""
        raise NotImplementedError

    def read_all(self) -> tuple[dict[str, SourceTable], list[RefusedTable]]:
        """Every table: orders and positions (refused when missing), fills when present."""
        present = set(self.tables_present())
        tables: dict[str, SourceTable] = {}
        refused: list[RefusedTable] = []
        for spec in TABLES.values():
            if spec.optional and spec.name not in present:
                continue
            try:
                tables[spec.name] = self.table(spec.name)
            except RefusedTable as exc:
                refused.append(exc)
        return tables, refused

    def _spec_for(self, name: str) -> TableSpec:
        if name not in TABLES:
            raise SourceError(f"unknown table {name!r} (tables read: {', '.join(TABLES)})")
        return TABLES[name]


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class SqliteSource(Source):
    """The app's SQLite file, opened ``mode=ro`` (URI), every table read in one read
    transaction: ``BEGIN`` (deferred) takes a SHARED lock at the first read and keeps it
    to the final ``ROLLBACK``. In rollback-journal mode that lock lets other readers in
    but makes an app writer wait (its busy timeout) to commit until we finish; in WAL
    mode the app's writers are not blocked at all and we read the snapshot of the first
    read. Nothing is written: ``query_only`` is on and the file is opened read-only.
    """

    kind = "sqlite"

    def __init__(self, spec: SourceSpec, timeout: float = 5.0) -> None:
        super().__init__(spec)
        uri = "file:" + urllib.parse.quote(str(Path(spec.location).resolve())) + "?mode=ro"
        try:
            self._con = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=timeout,
                                        check_same_thread=False)
            self._con.set_trace_callback(self.sql_log.append)
            self._con.execute("pragma query_only = 1")
            self._con.execute("begin")
            self._tables = {row[0].lower(): row[0] for row in self._con.execute(
                "select name from sqlite_master where type in ('table', 'view')")}
        except sqlite3.Error as exc:
            raise SourceError(f"cannot read {spec.display}: {_first_line(exc)}") from exc

    def close(self) -> None:
        con = getattr(self, "_con", None)
        if con is not None:
            try:
                if con.in_transaction:
                    con.execute("rollback")
            finally:
                con.close()
                self._con = None  # type: ignore[assignment]

    def tables_present(self) -> list[str]:
        return [t for t in TABLES if t in self._tables]

    def table(self, name: str) -> SourceTable:
        spec = self._spec_for(name)
        if name not in self._tables:
            raise RefusedTable(self.name, name, "no such table")
        actual = self._tables[name]
        info = self._con.execute(f"pragma table_info({_quote_ident(actual)})").fetchall()
        declared = {row[1]: (row[2] or "").upper() for row in info}
        columns, present, extra, mapping = _layout(self.name, spec, [row[1] for row in info])
        kinds = [self._kind(c, declared.get(mapping.get(c, ""), "")) for c in columns]
        selects = ", ".join(_quote_ident(mapping[c]) if c in mapping else "null" for c in columns)
        order = _quote_ident(mapping["id"]) if "id" in mapping else \
            ", ".join(_quote_ident(mapping[c]) for c in spec.required)
        sql = f"select {selects} from {_quote_ident(actual)} order by {order}"
        count = self._con.execute(f"select count(*) from {_quote_ident(actual)}").fetchone()[0]

        def produce() -> Iterator[tuple[Optional[str], ...]]:
            cursor = self._con.execute(sql)
            while True:
                batch = cursor.fetchmany(5000)
                if not batch:
                    return
                for row in batch:
                    yield tuple(to_text(v, k) for v, k in zip(row, kinds))

        return SourceTable(self.name, name, columns, present, extra, count, produce)

    @staticmethod
    def _kind(column: str, declared: str) -> str:
        if "DATE" in declared or "TIME" in declared:
            return "timestamp"
        if not declared and column in TIMESTAMP_COLUMNS:
            return "timestamp"
        return "text"  # numbers come typed (int / float) from SQLite; text stays text


class PostgresSource(Source):
    """A live PostgreSQL database: one ``REPEATABLE READ READ ONLY`` transaction
    (psycopg: ``autocommit=False``, ``read_only=True``) for every table, rows streamed
    through server-side cursors. ``json``/``jsonb`` come back as their text, enums as
    their label."""

    kind = "postgresql"

    def __init__(self, spec: SourceSpec, connect_timeout: int = 5, schema: str = "public") -> None:
        super().__init__(spec)
        import psycopg
        from psycopg.types.string import TextLoader

        self._psycopg = psycopg
        self.schema = schema
        kwargs: dict[str, object] = {"autocommit": False, "application_name": "warehouse_app_sources"}
        if "connect_timeout" not in spec.location:
            kwargs["connect_timeout"] = connect_timeout
        try:
            self._con = psycopg.connect(spec.location, **kwargs)
        except psycopg.Error as exc:
            raise SourceError(f"cannot connect to {spec.display}: {self._libpq_line(exc)}") from None
        try:
            self._con.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            self._con.read_only = True
            for type_name in ("json", "jsonb"):
                self._con.adapters.register_loader(type_name, TextLoader)
            self.sql_log.append("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            rows = self._query(
                "select c.relname, c.oid from pg_catalog.pg_class c"
                " join pg_catalog.pg_namespace n on n.oid = c.relnamespace"
                " where n.nspname = %s and c.relkind in ('r', 'p', 'v', 'm', 'f')", (schema,))
            self._tables = {}
            for relname, oid in rows:
                self._tables.setdefault(relname.lower(), (relname, oid))
        except psycopg.Error as exc:
            self.close()
            raise SourceError(f"cannot read {spec.display}: {self._libpq_line(exc)}") from None

    def _libpq_line(self, exc: BaseException) -> str:
        line = _first_line(exc)
        line = re.sub(r"^connection failed: ", "", line)
        return self.spec.redact(line)

    def _query(self, sql: str, params: tuple = ()) -> list[tuple]:
        self.sql_log.append(sql)
        with self._con.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()

    def close(self) -> None:
        con = getattr(self, "_con", None)
        if con is not None:
            try:
                con.rollback()
                self.sql_log.append("ROLLBACK")
            except self._psycopg.Error:
                pass
            con.close()
            self._con = None

    def tables_present(self) -> list[str]:
        return [t for t in TABLES if t in self._tables]

    def table(self, name: str) -> SourceTable:
        spec = self._spec_for(name)
        if name not in self._tables:
            raise RefusedTable(self.name, name, f"no such table in schema {self.schema}")
        relname, oid = self._tables[name]
        try:
            info = self._query(
                "select a.attname, t.typname, t.typtype,"
                " has_column_privilege(a.attrelid, a.attnum, 'SELECT')"
                " from pg_catalog.pg_attribute a join pg_catalog.pg_type t on t.oid = a.atttypid"
                " where a.attrelid = %s and a.attnum > 0 and not a.attisdropped order by a.attnum", (oid,))
        except self._psycopg.Error as exc:
            raise SourceError(f"cannot read {self.display_name}: {self._libpq_line(exc)}") from None
        columns, present, extra, mapping = _layout(self.name, spec, [row[0] for row in info])
        readable = {row[0] for row in info if row[3]}
        denied = [mapping[c] for c in columns if c in mapping and mapping[c] not in readable]
        if denied:
            raise RefusedTable(self.name, name, f"permission denied on column(s) {', '.join(denied)}")
        qualified = f"{_quote_ident(self.schema)}.{_quote_ident(relname)}"
        selects = ", ".join(_quote_ident(mapping[c]) if c in mapping else "null" for c in columns)
        order = _quote_ident(mapping["id"]) if "id" in mapping else \
            ", ".join(_quote_ident(mapping[c]) for c in spec.required)
        sql = f"select {selects} from {qualified} order by {order}"
        try:
            count = self._query(f"select count(*) from {qualified}")[0][0]
        except self._psycopg.Error as exc:
            raise SourceError(f"cannot read {self.display_name}: {self._libpq_line(exc)}") from None
        counter = itertools.count(1)

        def produce() -> Iterator[tuple[Optional[str], ...]]:
            cursor_name = f"app_sources_{name}_{next(counter)}"
            self.sql_log.append(sql)
            try:
                with self._con.cursor(name=cursor_name) as cur:
                    cur.itersize = 5000
                    cur.execute(sql)
                    for row in cur:
                        yield tuple(to_text(v) for v in row)
            except self._psycopg.Error as exc:
                raise SourceError(f"cannot read {self.display_name}: {self._libpq_line(exc)}") from None

        return SourceTable(self.name, name, columns, present, extra, count, produce)


# ---------------------------------------------------------------- pg_dump files
_COPY_RE = re.compile(r"^COPY (\S+) \((.*)\) FROM stdin;$")
_CREATE_RE = re.compile(r"^CREATE (?:UNLOGGED )?TABLE (\S+) \($")
_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}
_ESCAPE_RE = re.compile(r"\\(?:([0-7]{1,3})|x([0-9A-Fa-f]{1,2})|(.))", re.S)


def _split_idents(text: str, sep: str) -> list[str]:
    """Split a list of possibly double-quoted identifiers; unquote (quoted: as is;
    bare: lower-cased, as PostgreSQL folds them)."""
    parts, current, quoted, i = [], [], False, 0
    was_quoted = False
    while i < len(text):
        ch = text[i]
        if quoted:
            if ch == '"':
                if text[i + 1:i + 2] == '"':
                    current.append('"')
                    i += 1
                else:
                    quoted = False
            else:
                current.append(ch)
        elif ch == '"':
            if not "".join(current).strip():
                current = []
            quoted = was_quoted = True
        elif text.startswith(sep, i):
            parts.append(("".join(current) if was_quoted else "".join(current).strip().lower()))
            current, was_quoted = [], False
            i += len(sep)
            continue
        else:
            current.append(ch)
        i += 1
    parts.append("".join(current) if was_quoted else "".join(current).strip().lower())
    return parts


def _table_key(qualified: str) -> Optional[str]:
    """``public.orders`` -> ``orders``; another schema -> None."""
    parts = _split_idents(qualified, ".")
    if len(parts) == 1:
        return parts[0]
    if len(parts) == 2 and parts[0] == "public":
        return parts[1]
    return None


def copy_unescape(field_text: str) -> Optional[str]:
    """One field of PostgreSQL's COPY text format: ``\\N`` is NULL; ``\\b \\f \\n \\r \\t
    \\v \\\\``, ``\\ooo`` (octal) and ``\\xhh`` (hex) escapes; any other escaped character
    is itself. Octal/hex escapes are bytes, decoded as UTF-8 with their neighbours."""
    if field_text == "\\N":
        return None
    if "\\" not in field_text:
        return field_text
    if not re.search(r"\\(?:[0-7]|x[0-9A-Fa-f])", field_text):
        return _ESCAPE_RE.sub(lambda m: _ESCAPES.get(m.group(3), m.group(3)), field_text)
    out = bytearray()
    pos = 0
    for match in _ESCAPE_RE.finditer(field_text):
        out += field_text[pos:match.start()].encode("utf-8")
        octal, hexa, other = match.groups()
        if octal is not None:
            out.append(int(octal, 8) & 0xFF)
        elif hexa is not None:
            out.append(int(hexa, 16))
        else:
            out += _ESCAPES.get(other, other).encode("utf-8")
        pos = match.end()
    out += field_text[pos:].encode("utf-8")
    return out.decode("utf-8", errors="backslashreplace")


def _pg_kind(type_text: str) -> str:
    t = type_text.lower().strip()
    if t.startswith("timestamp") or t == "date":
        return "timestamp"
    if t.startswith(("double precision", "real", "float")):
        return "float"
    if t.startswith(("integer", "bigint", "smallint", "serial", "bigserial", "int")):
        return "int"
    if t.startswith("boolean"):
        return "bool"
    return "text"


@dataclass
class _DumpTable:
    create_types: dict[str, str] = field(default_factory=dict)
    copy_columns: Optional[list[str]] = None
    row_count: int = 0


def _parse_create_column(line: str) -> Optional[tuple[str, str]]:
    text = line.strip().rstrip(",")
    if not text or text.upper().startswith(("CONSTRAINT ", "CHECK ", "PRIMARY KEY", "UNIQUE ", "FOREIGN KEY")):
        return None
    if text.startswith('"'):
        end = text.index('"', 1)
        while text[end + 1:end + 2] == '"':
            end = text.index('"', end + 2)
        name, rest = text[1:end].replace('""', '"'), text[end + 1:]
    else:
        name, _, rest = text.partition(" ")
        name = name.lower()
    return name, rest.strip()


def _scan_dump(lines: Iterable[str], wanted: set[str]) -> dict[str, _DumpTable]:
    """One pass over a dump's SQL: CREATE TABLE column types, COPY headers, row counts."""
    found: dict[str, _DumpTable] = {}
    creating: Optional[_DumpTable] = None
    copying: Optional[_DumpTable] = None
    for line in lines:
        if copying is not None:
            if line == "\\.\n" or line == "\\.":
                copying = None
            else:
                copying.row_count += 1
            continue
        if creating is not None:
            if line.startswith(")"):
                creating = None
            else:
                parsed = _parse_create_column(line)
                if parsed:
                    creating.create_types[parsed[0]] = parsed[1]
            continue
        if line.startswith("CREATE "):
            match = _CREATE_RE.match(line.rstrip("\n"))
            key = _table_key(match.group(1)) if match else None
            if key in wanted:
                creating = found.setdefault(key, _DumpTable())
        elif line.startswith("COPY "):
            match = _COPY_RE.match(line.rstrip("\n"))
            if match:
                key = _table_key(match.group(1))
                if key in wanted:
                    copying = found.setdefault(key, _DumpTable())
                    copying.copy_columns = _split_idents(match.group(2), ",")
                    copying.row_count = 0
                else:
                    copying = _DumpTable()  # another table's block: skipped
    return found


def _id_key(row: tuple[Optional[str], ...]) -> tuple:
    value = row[0]
    if value is None:
        return (2, "")
    try:
        return (0, int(value))
    except ValueError:
        return (1, value)


def _external_sort(rows: Iterator[tuple[Optional[str], ...]], key: Callable[[tuple], tuple],
                   chunk_rows: int = SORT_CHUNK_ROWS) -> Iterator[tuple[Optional[str], ...]]:
    """Rows sorted by ``key`` in bounded memory: chunks sorted in memory, spilled to
    temporary JSON-lines files and merged when there is more than one."""
    chunk: list[tuple] = []
    spills: list[Path] = []
    tmp: Optional[tempfile.TemporaryDirectory] = None
    try:
        for row in rows:
            chunk.append(row)
            if len(chunk) >= chunk_rows:
                tmp = tmp or tempfile.TemporaryDirectory(prefix="app_sources_sort_")
                chunk.sort(key=key)
                spill = Path(tmp.name) / f"chunk_{len(spills)}.jsonl"
                with spill.open("w", encoding="utf-8") as handle:
                    for item in chunk:
                        handle.write(json.dumps(item, ensure_ascii=False) + "\n")
                spills.append(spill)
                chunk = []
        chunk.sort(key=key)
        if not spills:
            yield from chunk
            return
        handles = [spill.open(encoding="utf-8") for spill in spills]
        try:
            streams = [(tuple(json.loads(line)) for line in handle) for handle in handles]
            yield from heapq.merge(*streams, iter(chunk), key=key)
        finally:
            for handle in handles:
                handle.close()
    finally:
        if tmp is not None:
            tmp.cleanup()


class DumpSource(Source):
    """A pg_dump backup, read without a server: plain SQL (``.sql``), gzipped SQL, or a
    custom-format archive turned into SQL by ``pg_restore -f -`` (no database needed).
    Opening makes one pass (column types, COPY headers, row counts); each table read is
    one more pass over its COPY block. Rows are sorted by ``id`` (a dump holds them in
    physical order) in bounded memory."""

    def __init__(self, spec: SourceSpec) -> None:
        super().__init__(spec)
        self.kind = spec.kind
        self.path = Path(spec.location)
        if self.kind == "dump_custom":
            self._pg_restore = find_pg_restore()
        with self._open_sql() as lines:
            self._tables = _scan_dump(lines, set(TABLES))

    def _open_sql(self, table: Optional[str] = None) -> "_SqlLines":
        if self.kind == "dump_custom":
            # only the tables read ever leave pg_restore (never usersettings or users)
            only = ["--data-only", "--table", table] if table else \
                [arg for name in TABLES for arg in ("--table", name)]
            return _SqlLines.from_process([self._pg_restore, "-f", "-", *only, str(self.path)], self.display_name)
        if self.kind == "dump_gzip":
            return _SqlLines(gzip.open(self.path, "rt", encoding="utf-8", newline="\n"), self.display_name)
        return _SqlLines(self.path.open("r", encoding="utf-8", newline="\n"), self.display_name)

    def close(self) -> None:
        pass

    def tables_present(self) -> list[str]:
        return [t for t in TABLES if t in self._tables and self._tables[t].copy_columns is not None]

    def table(self, name: str) -> SourceTable:
        spec = self._spec_for(name)
        meta = self._tables.get(name)
        if meta is None:
            raise RefusedTable(self.name, name, "no such table in the dump")
        if meta.copy_columns is None:
            raise RefusedTable(self.name, name, "the dump has no COPY data for it (dumps made with --inserts"
                                                " or --schema-only are not read)")
        source_columns = meta.copy_columns
        columns, present, extra, mapping = _layout(self.name, spec, source_columns)
        position = {c: i for i, c in enumerate(source_columns)}
        picks = [position[mapping[c]] if c in mapping else None for c in columns]

        def kind(column: str) -> str:
            declared = meta.create_types.get(mapping.get(column, ""))
            if declared:
                return _pg_kind(declared)
            if column in TIMESTAMP_COLUMNS:
                return "timestamp"
            return "float" if column in FLOAT_COLUMNS else "text"

        kinds = [kind(c) for c in columns]
        width = len(source_columns)
        wanted_key = name

        def parsed() -> Iterator[tuple[Optional[str], ...]]:
            with self._open_sql(wanted_key) as lines:
                in_block = False
                for line in lines:
                    if not in_block:
                        if line.startswith("COPY "):
                            match = _COPY_RE.match(line.rstrip("\n"))
                            in_block = bool(match) and _table_key(match.group(1)) == wanted_key
                        continue
                    if line == "\\.\n" or line == "\\.":
                        return
                    fields = line[:-1].split("\t") if line.endswith("\n") else line.split("\t")
                    if len(fields) != width:
                        raise SourceError(f"{self.display_name}: a COPY line of {wanted_key} has {len(fields)}"
                                          f" fields, expected {width}")
                    values = [copy_unescape(f) for f in fields]
                    yield tuple(None if p is None else to_text(values[p], k) for p, k in zip(picks, kinds))

        def produce() -> Iterator[tuple[Optional[str], ...]]:
            return _external_sort(parsed(), _id_key) if "id" in mapping else parsed()

        if "id" in mapping and columns[0] != "id":  # pragma: no cover - id is first in every table spec
            raise AssertionError("id must be the first column")
        return SourceTable(self.name, name, columns, present, extra, meta.row_count, produce)


class _SqlLines:
    """Lines of a dump's SQL from a file or from ``pg_restore``'s stdout (a context manager
    that reports pg_restore's failure as one line; stopping early is not a failure)."""

    def __init__(self, handle: TextIO, display: str, process: Optional[subprocess.Popen] = None,
                 stderr: Optional[TextIO] = None) -> None:
        self.handle = handle
        self.display = display
        self.process = process
        self.stderr = stderr
        self.at_eof = False

    @classmethod
    def from_process(cls, args: list[str], display: str) -> "_SqlLines":
        import io

        stderr = tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace")
        process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=stderr)
        assert process.stdout is not None
        return cls(io.TextIOWrapper(process.stdout, encoding="utf-8", newline="\n"), display, process, stderr)

    def __enter__(self) -> Iterator[str]:
        return self._lines()

    def _lines(self) -> Iterator[str]:
        try:
            yield from self.handle
        except (OSError, EOFError, UnicodeDecodeError) as exc:
            raise SourceError(f"cannot read {self.display}: {_first_line(exc)}") from exc
        self.at_eof = True

    def __exit__(self, exc_type, exc, tb) -> None:
        process = self.process
        if process is None:
            self.handle.close()
            return
        if not self.at_eof:
            process.kill()
        self.handle.close()
        code = process.wait()
        assert self.stderr is not None
        self.stderr.seek(0)
        message = self.stderr.read()
        self.stderr.close()
        if self.at_eof and code != 0 and exc_type is None:
            raise SourceError(f"cannot read {self.display}: pg_restore failed: "
                              f"{_first_line(message) if message.strip() else f'exit code {code}'}")


def find_pg_restore() -> str:
    """The pg_restore to use: $PG_RESTORE or the one on PATH; one clear SourceError if absent."""
    wanted = os.environ.get("PG_RESTORE", "pg_restore")
    found = shutil.which(wanted)
    if not found:
        raise SourceError(f"reading a custom-format dump (pg_dump -F c) needs pg_restore, which is not installed"
                          f" ({wanted} not found): install the PostgreSQL client tools"
                          " (apt-get install postgresql-client) or convert the dump: pg_restore -f dump.sql FILE")
    return found


# ---------------------------------------------------------------- entry points
def open_source(spec: "str | SourceSpec", *, connect_timeout: int = 5, base_dir: Optional[Path] = None,
                schema: str = "public") -> Source:
    """Open one source snapshot (a context manager). Raises SourceError (one line, any
    password redacted) when it cannot be opened; a raw folder is refused here (it is
    read by load_raw.py: check ``parse_spec(...).kind == 'folder'`` first)."""
    if isinstance(spec, str):
        spec = parse_spec(spec, base_dir)
    if spec.kind == "folder":
        raise SourceError(f"{spec.display} is a raw folder of exports: load it with scripts/load_raw.py")
    if spec.kind == "sqlite":
        return SqliteSource(spec)
    if spec.kind == "postgresql":
        return PostgresSource(spec, connect_timeout=connect_timeout, schema=schema)
    return DumpSource(spec)


def _first_line(exc: object) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0].strip() if lines else type(exc).__name__


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     epilog="Exit codes: 0 read, 1 some table refused, 2 source unusable.")
    parser.add_argument("spec", help="[name=]SPEC: sqlite:///data/app.db, postgresql://user@host:port/db,"
                                     " a pg_dump file (.sql, .sql.gz, -F c), or a raw folder")
    parser.add_argument("--table", choices=list(TABLES), action="append",
                        help="only this table (repeatable; default: orders, positions, fills if present)")
    parser.add_argument("--limit", type=int, default=0, help="print the first N rows of each table")
    parser.add_argument("--connect-timeout", type=int, default=5, help="PostgreSQL connect timeout (s)")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    args = parser.parse_args(argv)
    password: Optional[str] = None
    try:
        spec = parse_spec(args.spec)
        password = spec.password
        if spec.kind == "folder":
            print(f"{spec.name}: folder {spec.display} (raw exports: read by scripts/load_raw.py)")
            return 0
        refused: list[RefusedTable] = []
        with open_source(spec, connect_timeout=args.connect_timeout) as source:
            print(f"{source.name}: {source.kind} {source.display_name}")
            if args.table:
                tables = {}
                for name in args.table:
                    try:
                        tables[name] = source.table(name)
                    except RefusedTable as exc:
                        refused.append(exc)
            else:
                tables, refused = source.read_all()
            for table in tables.values():
                shown = 0
                sample = []
                for row in table.rows():
                    if shown < args.limit:
                        sample.append(row)
                        shown += 1
                print(f"  {table.table}: {table.row_count} rows, sha256 {table.content_hash}")
                print(f"    columns present: {', '.join(table.present_columns)}")
                absent = [c for c in table.columns if c not in table.present_columns and c not in table.extra_columns]
                if absent:
                    print(f"    columns absent (NULL): {', '.join(absent)}")
                if table.extra_columns:
                    print(f"    extra columns: {', '.join(table.extra_columns)}")
                for row in sample:
                    print("    " + json.dumps(dict(zip(table.columns, row)), ensure_ascii=False))
        for exc in refused:
            print(f"app_sources: {redact(str(exc), password)}", file=sys.stderr)
        return 1 if refused else 0
    except SourceError as exc:
        if args.debug:
            raise
        print(f"app_sources: {redact(str(exc), password)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # pragma: no cover
        return 130
    except Exception as exc:  # noqa: BLE001 - one line unless --debug
        if args.debug:
            raise
        print(f"app_sources: {type(exc).__name__}: {redact(_first_line(exc), password)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
