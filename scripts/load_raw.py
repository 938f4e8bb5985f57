#!/usr/bin/env python3
"""Load the trading app's data into the warehouse's ``raw`` schema: raw folders of
exports, the app's own database (SQLite, live PostgreSQL) or its pg_dump backups.

Sources (R9.1, ``--source [name=]SPEC``, repeatable, or ``$SOURCE``; default
``--raw-dir``): a raw folder (name ``exports`` unless named), ``sqlite:///path``,
``postgresql://user@host:port/db`` (also the app's ``postgresql+psycopg2://`` DB_URL;
password from PGPASSWORD or ~/.pgpass), a plain / gzipped / custom pg_dump file (read by
``scripts/app_sources.py``, read-only, one snapshot per source). Every row carries its
source's name and kind. A database's ``orders``, ``positions`` and ``fills`` tables load
as ``table:<name>``, skipped when their content hash is unchanged, replaced when it
changed; a missing table or required column refuses that table by name.
``--history FILE`` (or ``$HISTORY``) adds a trades_history.json to the first source.

Folder layout (``../shared/spec/raw-data.md``)::

    <raw>/orders/*.csv | *.csv.gz | *.parquet
    <raw>/positions/*.csv | *.csv.gz | *.parquet
    <raw>/fills/*.csv | *.csv.gz | *.parquet   (the app's fills table, optional)
    <raw>/trade_history/trades_history.json[.gz]
    <raw>/trade_history/user_<id>/trades_history.json[.gz]

Every value lands as text, untouched, beside its source file, row number and
load time: typing, validation and quarantine happen in dbt staging, so nothing
is lost here. Each file is loaded in its own transaction and recorded in
``raw.load_log`` with its content hash: loading the same file again adds
nothing; a file whose content changed replaces its earlier rows. A file that
cannot be parsed (whatever the failure inside it) is refused whole with one
line naming it and the problem; the other files still load and the command
exits 1. A file the loader will not read (another type, another compression)
is listed with the reason (and makes the exit code 1, unless it is a hidden
file such as ``.DS_Store``). Tracebacks only with ``--debug``.

With ``--target postgres`` or ``--target spark`` the folder is loaded into
the DuckDB file as usual (it keeps the load log, so loading again still adds
nothing), then its ``raw`` schema is mirrored to PostgreSQL's ``raw`` schema
(libpq's PG* environment) or written as Parquet for Spark
(``scripts/raw_export.py``).

Which rows staging quarantines is known after the build:
``scripts/check_quarantine.py`` then names every file most of whose rows were
quarantined (the nightly job runs it after ``dbt build``).

Exit codes: 0 all files loaded (or already loaded), 1 some file refused or not
read (or the copy to the target failed), 2 nothing to build: bad
arguments (missing folder), no orders/ folder, or no orders at all.
"""
from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import io
import json
import os
import re
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import IO

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))
import app_sources  # noqa: E402  (the app database readers, issue 14)

try:  # progress bars are a nicety, never a requirement
    from tqdm import tqdm
except ImportError:  # pragma: no cover
    tqdm = None

ORDER_COLUMNS = [
    "id", "user_id", "symbol", "side", "order_type", "quantity", "price", "status",
    "avg_price", "placed_at", "updated_at", "filled_at", "closed_at", "orig_source",
    "order_id", "broker_order_id", "metadata", "reason", "failure_reason",
    "rejection_reason", "cancelled_reason", "execution_price", "execution_qty",
    "execution_time", "entry_type", "trade_mode", "retry_count", "first_failed_at",
    "last_retry_attempt", "last_status_check", "base_symbol",
]
ORDER_REQUIRED = ["id", "user_id", "symbol", "side", "quantity", "status", "placed_at"]

POSITION_COLUMNS = [
    "id", "user_id", "symbol", "quantity", "avg_price", "unrealized_pnl", "opened_at",
    "closed_at", "reentry_count", "reentries", "initial_entry_price", "last_reentry_price",
    "entry_rsi", "exit_price", "exit_reason", "exit_rsi", "realized_pnl",
    "realized_pnl_pct", "sell_order_id",
]
POSITION_REQUIRED = ["id", "user_id", "symbol"]

FILL_COLUMNS = list(app_sources.FILL_COLUMNS)
FILL_REQUIRED = list(app_sources.TABLES["fills"].required)

# R9.1: every raw row carries the source it was read from. A folder's default name is
# the constant `exports` (moving the folder changes no order's identity).
DEFAULT_SOURCE_NAME = "exports"
SOURCE_TABLES = ["orders", "positions", "fills", "history_trades", "history_reentry_items", "rejected_lines"]

META_COLUMNS = [
    ("_source_file", "varchar not null"),
    ("_source_row", "bigint not null"),
    ("_loaded_at", "timestamptz not null"),
]

USER_DIR = re.compile(r"^user_(\d+)$")


class RefusedFile(Exception):
    """A file that cannot be loaded at all; the message names the problem."""


@dataclass
class FileResult:
    path: str
    kind: str
    action: str  # loaded | replaced | skipped | refused | unusable (a database source that cannot be opened)
    rows: int = 0
    message: str = ""
    source_name: str = DEFAULT_SOURCE_NAME


@dataclass
class LoadSource:
    """One source of a load (R9.1): a raw folder (kind ``folder``) or an app database
    (``sqlite``, ``postgresql``, ``dump``), with its name."""

    name: str
    kind: str
    spec: "app_sources.SourceSpec | None" = None  # database sources
    root: "Path | None" = None  # folder sources

    @property
    def display(self) -> str:
        return str(self.root) if self.root is not None else self.spec.display


def table_ddl() -> list[str]:
    meta = ", ".join(f"{name} {typ}" for name, typ in META_COLUMNS)
    orders = ", ".join(f"{c} varchar" for c in ORDER_COLUMNS)
    positions = ", ".join(f"{c} varchar" for c in POSITION_COLUMNS)
    fills = ", ".join(f"{c} varchar" for c in FILL_COLUMNS)
    source_columns = []
    for table in SOURCE_TABLES:
        source_columns += [
            f"alter table raw.{table} add column if not exists _source_name varchar default '{DEFAULT_SOURCE_NAME}'",
            f"alter table raw.{table} add column if not exists _source_kind varchar default 'folder'",
        ]
    return [
        "create schema if not exists raw",
        f"create table if not exists raw.orders ({orders}, _extra varchar, {meta})",
        f"create table if not exists raw.positions ({positions}, _extra varchar, {meta})",
        f"create table if not exists raw.fills ({fills}, _extra varchar, {meta})",
        f"create table if not exists raw.history_trades (_file_user_id varchar, trade varchar, {meta})",
        "create table if not exists raw.history_reentry_items ("
        "_item_index bigint not null, item varchar, " + meta + ")",
        "create table if not exists raw.rejected_lines (source_table varchar not null,"
        " _source_file varchar not null, line_number bigint, raw_line varchar, error varchar,"
        " _loaded_at timestamptz not null)",
        "create table if not exists raw.load_log ("
        "source_file varchar not null, kind varchar not null, content_hash varchar not null,"
        " size_bytes bigint, rows_loaded bigint, action varchar not null, message varchar,"
        " loaded_at timestamptz not null, source_columns varchar)",
        # warehouses created by an earlier version of this loader
        "alter table raw.load_log add column if not exists source_columns varchar",
        "alter table raw.load_log add column if not exists source_mtime_ns bigint",
        *source_columns,
        # R9.1: a load's identity is (source_name, source_file)
        f"alter table raw.load_log add column if not exists source_name varchar default '{DEFAULT_SOURCE_NAME}'",
        "alter table raw.load_log add column if not exists source_kind varchar default 'folder'",
    ]


def file_hash(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


TABULAR_SUFFIXES = (".csv", ".csv.gz", ".parquet")
HISTORY_SUFFIXES = (".json", ".json.gz")
COMPRESSED = (".gz", ".zip", ".bz2", ".xz", ".zst", ".7z", ".tgz")


def suffix_of(path: Path, supported: tuple[str, ...]) -> str | None:
    name = path.name.lower()
    return next((suffix for suffix in supported if name.endswith(suffix)), None)


def not_read_reason(path: Path, supported: tuple[str, ...]) -> str:
    name = path.name.lower()
    reads = ", ".join(supported)
    if name.endswith(COMPRESSED):
        return f"compressed files are read as {' or '.join(s for s in supported if s.endswith('.gz'))} only (this folder reads {reads})"
    return f"not a supported type (this folder reads {reads})"


def discover(raw_dir: Path) -> tuple[list[tuple[str, Path]], list[tuple[str, str]]]:
    """(kind, path) of every loadable file, in load order (lexical within a
    kind), and (relative path, reason) of every file that will not be read."""
    found: list[tuple[str, Path]] = []
    ignored: list[tuple[str, str]] = []

    def skip(path: Path, reason: str) -> None:
        ignored.append((str(path.relative_to(raw_dir)), reason))

    for kind in ("orders", "positions", "fills"):
        folder = raw_dir / kind
        if not folder.is_dir():
            continue
        files = []
        for entry in sorted(folder.iterdir(), key=lambda p: p.name):
            if entry.is_dir():
                skip(entry, f"a folder: {kind}/ is read one level deep")
            elif suffix_of(entry, TABULAR_SUFFIXES):
                files.append(entry)
            else:
                skip(entry, not_read_reason(entry, TABULAR_SUFFIXES))
        found += [(kind, p) for p in files]
    history = raw_dir / "trade_history"
    if history.is_dir():
        files = []
        for entry in sorted(history.rglob("*"), key=lambda p: str(p.relative_to(history))):
            if entry.is_dir():
                continue
            if suffix_of(entry, HISTORY_SUFFIXES):
                files.append(entry)
            else:
                skip(entry, not_read_reason(entry, HISTORY_SUFFIXES))
        found += [("history", p) for p in files]
    for entry in sorted(raw_dir.iterdir(), key=lambda p: p.name):
        if entry.name not in ("orders", "positions", "fills", "trade_history"):
            skip(entry, "not part of the raw layout (orders/, positions/, fills/, trade_history/)")
    return found, ignored


def is_hidden(rel: str) -> bool:
    """A hidden file (`.DS_Store`, an editor's swap file): listed, but not a reason to fail the load."""
    return any(part.startswith(".") for part in Path(rel).parts)


def open_text_bytes(path: Path) -> bytes:
    """The file's bytes, gunzipped when it is a .gz file."""
    if path.name.lower().endswith(".gz"):
        try:
            return gzip.decompress(path.read_bytes())
        except (OSError, EOFError) as exc:
            raise RefusedFile(f"is not a readable gzip file ({exc})") from exc
    return path.read_bytes()


# ---------------------------------------------------------------- tabular files
def csv_header(path: Path) -> tuple[list[str], str | None]:
    """The header row, parsed by Python's csv module (DuckDB's sniffer can pick
    a data row as the header when rows are ragged), and the line ending: old
    Mac exports end lines with a bare CR."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rb") as handle:
            head = handle.read(1 << 16)
    except (OSError, EOFError) as exc:
        raise RefusedFile(f"is not a readable gzip file ({exc})") from exc
    cr_only = b"\r" in head and b"\n" not in head
    first = head.split(b"\r" if cr_only else b"\n", 1)[0]
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RefusedFile(f"is not UTF-8 encoded (header line: {exc.reason})") from exc
    rows = list(csv.reader(io.StringIO(text.rstrip("\r\n"))))
    header = [name.strip() for name in rows[0]] if rows else []
    if not any(header):
        raise RefusedFile("has no header row")
    duplicates = sorted({name for name in header if header.count(name) > 1})
    if duplicates:
        raise RefusedFile(f"has duplicate column(s) {', '.join(duplicates)}")
    return header, "\\r" if cr_only else None


def tabular_source(path: Path, header: list[str] | None, rejects: str, newline: str | None = None) -> str:
    if header is None:
        return f"read_parquet({sql_str(str(path))})"
    columns = ", ".join(f"{sql_str(name)}: 'VARCHAR'" for name in header)
    return (
        f"read_csv({sql_str(str(path))}, header=true, columns={{{columns}}}, auto_detect=false,"
        " delim=',', quote='\"', escape='\"', strict_mode=true,"
        + (f" new_line='{newline}'," if newline else "") +
        f" store_rejects=true, rejects_table='{rejects}', rejects_scan='{rejects}_scan')"
    )


def source_values(source: LoadSource) -> str:
    return f"{sql_str(source.name)} as _source_name, {sql_str(source.kind)} as _source_kind"


def load_tabular(con: duckdb.DuckDBPyConnection, path: Path, rel: str, table: str,
                 known: list[str], required: list[str], loaded_at: str,
                 source: LoadSource) -> tuple[int, list[str]]:
    """Insert a CSV or Parquet export; returns (rows loaded + rejected, its columns).

    CSV lines that cannot be parsed (wrong number of fields, an unterminated
    quote) go to raw.rejected_lines with their text and the parser's error;
    a file that is not UTF-8 is refused whole.
    """
    if path.stat().st_size == 0:
        raise RefusedFile("is empty")
    is_csv = suffix_of(path, TABULAR_SUFFIXES) != ".parquet"
    header, newline = csv_header(path) if is_csv else (None, None)
    rejects = "rejects_" + hashlib.md5(rel.encode()).hexdigest()[:12]
    reader = tabular_source(path, header, rejects, newline)
    if header is not None:
        columns = header
    else:
        try:
            columns = [row[0] for row in con.execute(f"describe select * from {reader}").fetchall()]
        except duckdb.Error as exc:
            raise RefusedFile(f"cannot be read as Parquet: {first_line(exc)}") from exc
    by_name = {c.strip().lower().lstrip("\ufeff"): c for c in columns}
    missing = [c for c in required if c not in by_name]
    if missing:
        raise RefusedFile(f"missing required column(s) {', '.join(missing)} (has: {', '.join(columns)})")
    selects = [f'cast("{by_name[c]}" as varchar) as {c}' if c in by_name else f"null as {c}" for c in known]
    extra = [c for key, c in by_name.items() if key not in known]
    if extra:
        pairs = ", ".join(f'{sql_str(c)}: cast("{c}" as varchar)' for c in extra)
        selects.append(f"cast(to_json({{{pairs}}}) as varchar) as _extra")
    else:
        selects.append("null as _extra")
    try:
        con.execute(
            f"insert into raw.{table} by name select {', '.join(selects)}, {sql_str(rel)} as _source_file,"
            f" ordinality as _source_row, cast({sql_str(loaded_at)} as timestamptz) as _loaded_at,"
            f" {source_values(source)} from {reader} with ordinality"
        )
    except duckdb.Error as exc:
        raise RefusedFile(f"cannot be read as {'CSV' if is_csv else 'Parquet'}: {first_line(exc)}") from exc
    rejected = 0
    if is_csv:
        rows = con.execute(
            f"select line, min(error_type), min(csv_line), min_by(error_message, coalesce(column_idx, 0))"
            f" from {rejects} group by line order by line"
        ).fetchall()
        con.execute(f"drop table if exists {rejects}")
        con.execute(f"drop table if exists {rejects}_scan")
        encoding = [row for row in rows if row[1] == "INVALID ENCODING"]
        if encoding:
            raise RefusedFile(f"is not UTF-8 encoded (line {encoding[0][0]})")
        for line, _error_type, raw_line, message in rows:
            con.execute(
                "insert into raw.rejected_lines (source_table, _source_file, line_number, raw_line, error, _loaded_at,"
                " _source_name, _source_kind) values (?, ?, ?, ?, ?, cast(? as timestamptz), ?, ?)",
                [table, rel, line, raw_line, message, loaded_at, source.name, source.kind],
            )
        rejected = len(rows)
    loaded = con.execute(f"select count(*) from raw.{table} where _source_name = ? and _source_file = ?",
                         [source.name, rel]).fetchone()[0]
    return loaded + rejected, columns


def first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


# ---------------------------------------------------------------- history JSON
HISTORY_CHUNK = 1 << 24  # 16 MB: the history file is copied through this much memory at a time
TRADES_KEY, TRADES_END = b'\n  "trades": ', b"\n  ]"


def open_raw_stream(path: Path) -> IO[bytes]:
    """The file as a byte stream, gunzipped when it is a .gz file."""
    return gzip.open(path, "rb") if path.name.lower().endswith(".gz") else path.open("rb")  # type: ignore[return-value]


def split_history(path: Path, workdir: Path) -> Path:
    """Write the ``trades`` array of a history file to its own file and return it.

    The file is one JSON object, far larger than DuckDB's per-object limit when
    production-sized. ``json.dump(indent=2)`` puts the array's closing bracket
    alone on a line indented by two spaces, and no string holds a raw newline,
    so the array is found with two byte searches while the file streams through
    in chunks (a 3 GB file never sits in memory: the loader's peak stays
    DuckDB's); everything outside it is validated with the standard parser.
    Files in any other layout (compact, another indent) are parsed whole by
    Python's ``json`` and re-written one trade per line.
    """
    out, needle = workdir / "trades.json", TRADES_KEY + b"["
    head, found = bytearray(), -1
    try:
        with open_raw_stream(path) as source:
            while found < 0 and (chunk := source.read(HISTORY_CHUNK)):
                searched = max(0, len(head) - len(needle) + 1)
                head += chunk
                found = head.find(needle, searched)
            if found >= 0:
                open_bracket = found + len(TRADES_KEY)
                if copy_trades_array(bytes(head), open_bracket, source, out, workdir / "outside.json"):
                    check_outside((workdir / "outside.json").read_bytes())
                    return out
                head = bytearray(open_text_bytes(path))  # no closing bracket on its own line: another layout
    except (OSError, EOFError) as exc:
        if not path.name.lower().endswith(".gz"):
            raise
        raise RefusedFile(f"is not a readable gzip file ({exc})") from exc
    if not head.strip():
        raise RefusedFile("is empty")
    return split_history_generic(head, out)


def copy_trades_array(head: bytes, open_bracket: int, source: IO[bytes], out: Path, outside: Path) -> bool:
    """Stream the array that opens at ``head[open_bracket]`` into ``out`` and the
    document around it, the array emptied, into ``outside``; False when the
    array's closing line never comes (the file is in another layout)."""
    buffer = head[open_bracket:]
    if len(buffer) < 2:  # the chunk ended on the bracket: is the array empty?
        buffer += source.read(HISTORY_CHUNK)
    with out.open("wb") as array:
        if buffer.startswith(b"[]"):
            array.write(b"[]")
            end, closing = 0, len(b"[]")
        else:
            closing = len(TRADES_END)
            while (end := buffer.find(TRADES_END)) < 0:
                keep = closing - 1  # a marker split across two chunks
                array.write(buffer[:-keep])
                chunk = source.read(HISTORY_CHUNK)
                if not chunk:
                    return False
                buffer = buffer[-keep:] + chunk
            array.write(buffer[:end + closing])
    with outside.open("wb") as rest:
        rest.write(head[:open_bracket] + b"[]" + buffer[end + closing:])
        while chunk := source.read(HISTORY_CHUNK):
            rest.write(chunk)
    return True


def check_outside(doc: bytes) -> None:
    try:
        parsed = json.loads(doc)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RefusedFile(f"is not valid JSON ({exc})") from exc
    except RecursionError as exc:
        raise RefusedFile("is not valid JSON (nested too deeply to parse)") from exc
    if not isinstance(parsed, dict) or not isinstance(parsed.get("trades"), list):
        raise RefusedFile('is not a history file: expected an object with a "trades" list')


def split_history_generic(data: bytes, out: Path) -> Path:
    try:
        text = data.decode("utf-8-sig")
        parsed = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RefusedFile(f"is not valid JSON ({exc})") from exc
    except RecursionError as exc:
        raise RefusedFile("is not valid JSON (nested too deeply to parse)") from exc
    if not isinstance(parsed, dict) or not isinstance(parsed.get("trades"), list):
        raise RefusedFile('is not a history file: expected an object with a "trades" list')
    with out.open("w", encoding="utf-8") as handle:
        handle.write("[")
        for index, trade in enumerate(parsed["trades"]):
            handle.write(("," if index else "") + json.dumps(trade) + "\n")
        handle.write("]")
    return out


def history_file_user(path: Path, history_root: "Path | None") -> "str | None":
    """R4.1 rule 1: the <id> of a ``user_<id>/`` folder the history file sits in."""
    if history_root is not None and path.parent == history_root:
        return None
    match = USER_DIR.match(path.parent.name)
    return match.group(1) if match else None


def load_history(con: duckdb.DuckDBPyConnection, path: Path, rel: str, file_user_id: "str | None",
                 loaded_at: str, source: LoadSource) -> int:
    file_user = sql_str(file_user_id) if file_user_id else "null"
    with tempfile.TemporaryDirectory(prefix="load_raw_") as tmp:
        array_file = split_history(path, Path(tmp))
        try:
            con.execute(
                f"insert into raw.history_trades by name select {file_user} as _file_user_id,"
                f" cast(json as varchar) as trade, {sql_str(rel)} as _source_file, ordinality as _source_row,"
                f" cast({sql_str(loaded_at)} as timestamptz) as _loaded_at, {source_values(source)}"
                f" from read_json_objects({sql_str(str(array_file))}, format='array') with ordinality"
            )
        except duckdb.Error as exc:
            raise RefusedFile(f"is not valid JSON: {first_line(exc)}") from exc
    con.execute(
        """
        insert into raw.history_reentry_items by name
        select item_index as _item_index, cast(item as varchar) as item, _source_file, _source_row, _loaded_at,
            _source_name, _source_kind
        from (
            select
                unnest(items) as item,
                unnest(range(1, len(items) + 1)) as item_index,
                _source_file, _source_row, _loaded_at, _source_name, _source_kind
            from (
                select
                    try_cast(json_extract(trade, '$.reentries') as json[]) as items,
                    _source_file, _source_row, _loaded_at, _source_name, _source_kind
                from raw.history_trades
                where _source_name = ? and _source_file = ?
            )
            where items is not null
        )
        """,
        [source.name, rel],
    )
    return con.execute("select count(*) from raw.history_trades where _source_name = ? and _source_file = ?",
                       [source.name, rel]).fetchone()[0]


# ---------------------------------------------------------------- driver
TABLES_BY_KIND = {
    "orders": ["orders", "rejected_lines"],
    "positions": ["positions", "rejected_lines"],
    "fills": ["fills", "rejected_lines"],
    "history": ["history_trades", "history_reentry_items"],
}
TABULAR = {"orders": (ORDER_COLUMNS, ORDER_REQUIRED), "positions": (POSITION_COLUMNS, POSITION_REQUIRED),
           "fills": (FILL_COLUMNS, FILL_REQUIRED)}


def previous_load(con: duckdb.DuckDBPyConnection, source_name: str, rel: str) -> tuple | None:
    """(content_hash, size_bytes, source_mtime_ns) of the last load of (source, file)."""
    return con.execute(
        "select content_hash, size_bytes, source_mtime_ns from raw.load_log"
        " where source_name = ? and source_file = ? and action in ('loaded', 'replaced')"
        " order by loaded_at desc limit 1",
        [source_name, rel],
    ).fetchone()


def log_load(con: duckdb.DuckDBPyConnection, source: LoadSource, rel: str, kind: str, digest: str,
             size: int | None, rows: int, action: str, message: str | None, loaded_at: str,
             columns: list[str] | None, mtime_ns: int | None) -> None:
    con.execute(
        "insert into raw.load_log (source_name, source_kind, source_file, kind, content_hash, size_bytes,"
        " rows_loaded, action, message, loaded_at, source_columns, source_mtime_ns)"
        " values (?, ?, ?, ?, ?, ?, ?, ?, ?, cast(? as timestamptz), ?, ?)",
        [source.name, source.kind, rel, kind, digest, size, rows, action, message, loaded_at,
         json.dumps(columns) if columns is not None else None, mtime_ns],
    )


def failure_message(exc: BaseException) -> str:
    if isinstance(exc, RefusedFile):
        return str(exc)
    if isinstance(exc, duckdb.Error):
        return f"could not be loaded: {first_line(exc)}"
    if isinstance(exc, RecursionError):
        return "could not be loaded: nested too deeply to parse"
    return f"could not be loaded: {type(exc).__name__}: {first_line(exc)}"


def load_file(con: duckdb.DuckDBPyConnection, source: LoadSource, kind: str, path: Path, rel: str,
              file_user_id: str | None = None, debug: bool = False) -> FileResult:
    """Load one file of a source (an export of a folder, or a history file) in one transaction."""
    stat = path.stat()
    previous = previous_load(con, source.name, rel)
    if previous and previous[1] == stat.st_size and previous[2] == stat.st_mtime_ns:
        return FileResult(rel, kind, "skipped", source_name=source.name)  # same size and mtime: not re-read
    digest = file_hash(path)
    if previous and previous[0] == digest:
        return FileResult(rel, kind, "skipped", source_name=source.name)
    loaded_at = datetime.now(timezone.utc).isoformat()
    action = "replaced" if previous else "loaded"
    con.execute("begin transaction")
    try:
        for table in TABLES_BY_KIND[kind]:
            con.execute(f"delete from raw.{table} where _source_name = ? and _source_file = ?", [source.name, rel])
        columns: list[str] | None = None
        if kind in TABULAR:
            known, required = TABULAR[kind]
            rows, columns = load_tabular(con, path, rel, kind, known, required, loaded_at, source)
        else:
            rows = load_history(con, path, rel, file_user_id, loaded_at, source)
        log_load(con, source, rel, kind, digest, stat.st_size, rows, action, None, loaded_at, columns,
                 stat.st_mtime_ns)
        con.execute("commit")
        return FileResult(rel, kind, action, rows, source_name=source.name)
    except Exception as exc:  # noqa: BLE001 - any failure inside one file refuses that file only (R6)
        if debug:
            traceback.print_exc()
        try:
            con.execute("rollback")
        except duckdb.Error:
            pass  # the transaction is already gone
        message = failure_message(exc)
        log_load(con, source, rel, kind, digest, stat.st_size, 0, "refused", message, loaded_at, None,
                 stat.st_mtime_ns)
        return FileResult(rel, kind, "refused", 0, message, source_name=source.name)


# ---------------------------------------------------------------- app databases (issue 14)
def write_ndjson(table: "app_sources.SourceTable", out: Path) -> int:
    """Stream a source table's rows (text or NULL, in id order) to an NDJSON file, one
    object per row with its position as ``_source_row`` and unknown columns in ``_extra``;
    the table's content hash is set once the rows are read to the end."""
    known = len(table.columns) - len(table.extra_columns)
    names = table.columns[:known]
    extra = table.extra_columns
    encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    count = 0
    with out.open("w", encoding="utf-8") as handle:
        for count, row in enumerate(table.rows(), start=1):
            record = dict(zip(names, row[:known]))
            record["_source_row"] = count
            if extra:
                record["_extra"] = encode(dict(zip(extra, row[known:])))
            handle.write(encode(record))
            handle.write("\n")
    return count


def load_table(con: duckdb.DuckDBPyConnection, source: LoadSource, table: "app_sources.SourceTable",
               debug: bool = False) -> FileResult:
    """Load one table of an app database snapshot as ``table:<name>`` of the source: skipped
    when its content hash equals the last load's, its rows replaced when it changed."""
    kind = table.table
    rel = f"table:{kind}"
    known, _required = TABULAR[kind]
    loaded_at = datetime.now(timezone.utc).isoformat()
    with tempfile.TemporaryDirectory(prefix="load_raw_") as tmp:
        rows_file = Path(tmp) / f"{kind}.ndjson"
        try:
            rows = write_ndjson(table, rows_file)
        except app_sources.SourceError as exc:
            return FileResult(rel, kind, "refused", 0, source.spec.redact(str(exc)), source_name=source.name)
        digest = table.content_hash or ""
        previous = previous_load(con, source.name, rel)
        if previous and previous[0] == digest:
            return FileResult(rel, kind, "skipped", source_name=source.name)
        action = "replaced" if previous else "loaded"
        columns = {c: "VARCHAR" for c in known} | {"_extra": "VARCHAR", "_source_row": "BIGINT"}
        spec = ", ".join(f"{sql_str(c)}: '{t}'" for c, t in columns.items())
        con.execute("begin transaction")
        try:
            for name in TABLES_BY_KIND[kind]:
                con.execute(f"delete from raw.{name} where _source_name = ? and _source_file = ?", [source.name, rel])
            if rows:
                con.execute(
                    f"insert into raw.{kind} by name select {', '.join(known)}, _extra, _source_row,"
                    f" {sql_str(rel)} as _source_file, cast({sql_str(loaded_at)} as timestamptz) as _loaded_at,"
                    f" {source_values(source)}"
                    f" from read_json({sql_str(str(rows_file))}, format='newline_delimited', columns={{{spec}}})"
                )
            log_load(con, source, rel, kind, digest, None, rows, action, None, loaded_at,
                     list(table.present_columns) + list(table.extra_columns), None)
            con.execute("commit")
            return FileResult(rel, kind, action, rows, source_name=source.name)
        except Exception as exc:  # noqa: BLE001 - one table refused, the others still load (R6)
            if debug:
                traceback.print_exc()
            try:
                con.execute("rollback")
            except duckdb.Error:
                pass
            message = failure_message(exc)
            log_load(con, source, rel, kind, digest, None, 0, "refused", message, loaded_at, None, None)
            return FileResult(rel, kind, "refused", 0, message, source_name=source.name)


def load_database(con: duckdb.DuckDBPyConnection, source: LoadSource, debug: bool = False) -> list[FileResult]:
    """Every table of one app database (orders, positions, fills when present), read in one
    read-only snapshot. A table that cannot be read (missing, without a required column) is
    refused by name; a source that cannot be opened is one ``unusable`` result."""
    results: list[FileResult] = []
    loaded_at = datetime.now(timezone.utc).isoformat()
    try:
        with app_sources.open_source(source.spec) as reader:
            present = set(reader.tables_present())
            for name, spec in app_sources.TABLES.items():
                if spec.optional and name not in present:
                    continue
                try:
                    table = reader.table(name)
                except app_sources.RefusedTable as exc:
                    message = source.spec.redact(exc.problem)
                    log_load(con, source, f"table:{name}", name, "", None, 0, "refused", message, loaded_at,
                             None, None)
                    results.append(FileResult(f"table:{name}", name, "refused", 0, message, source_name=source.name))
                    continue
                results.append(load_table(con, source, table, debug))
    except app_sources.SourceError as exc:
        if debug:
            traceback.print_exc()
        results.append(FileResult(source.display, "source", "unusable", 0, source.spec.redact(str(exc)),
                                  source_name=source.name))
    except Exception as exc:  # noqa: BLE001 - a driver error: one line, no traceback
        if debug:
            traceback.print_exc()
        results.append(FileResult(source.display, "source", "unusable", 0,
                                  source.spec.redact(f"cannot read {source.display}: {type(exc).__name__}:"
                                                     f" {first_line(exc)}"), source_name=source.name))
    return results


def folder_files(source: LoadSource) -> tuple[list[tuple[str, Path, str, str | None]], list[tuple[str, str]]]:
    """(kind, path, relative path, file user id) of every file of a folder source, and its unread files."""
    raw_dir = source.root
    assert raw_dir is not None
    files, ignored = discover(raw_dir)
    return [(kind, path, str(path.relative_to(raw_dir)),
             history_file_user(path, raw_dir / "trade_history") if kind == "history" else None)
            for kind, path in files], ignored


def history_rel(path: Path, sources: list[LoadSource]) -> tuple[LoadSource | None, str]:
    """The (source, relative path) a --history file is loaded as: inside a folder source's
    trade_history/, that folder's own identity (so repeating it adds nothing); elsewhere
    ``trade_history/[user_<id>/]<file name>`` of the first source."""
    resolved = path.resolve()
    for source in sources:
        if source.root is not None:
            root = source.root.resolve()
            if resolved.is_relative_to(root / "trade_history"):
                return source, str(resolved.relative_to(root))
    user = USER_DIR.match(path.parent.name)
    return (sources[0] if sources else None,
            f"trade_history/{path.parent.name}/{path.name}" if user else f"trade_history/{path.name}")


def load_sources(sources: list[LoadSource], histories: list[Path], warehouse: str, quiet: bool = False,
                 memory_limit: str | None = None, debug: bool = False
                 ) -> tuple[list[FileResult], list[tuple[str, str]], int]:
    """Load every source (folders file by file, databases table by table) and the extra
    history files; returns the results, the files not read (with the reason) and the
    number of order rows in the warehouse."""
    con = duckdb.connect(warehouse)
    try:
        con.execute("set TimeZone = 'UTC'")
        if memory_limit:
            con.execute(f"set memory_limit = {sql_str(memory_limit)}")
        for statement in table_ddl():
            con.execute(statement)
        results: list[FileResult] = []
        ignored: list[tuple[str, str]] = []
        work: list[tuple[LoadSource, str, Path, str, str | None]] = []
        for source in sources:
            if source.kind == "folder":
                files, not_read = folder_files(source)
                prefix = "" if len(sources) == 1 else f"{source.name}:"
                ignored += [(prefix + rel, reason) for rel, reason in not_read]
                work += [(source, kind, path, rel, user) for kind, path, rel, user in files]
            else:
                work.append((source, "database", Path(), "", None))
        for path in histories:
            owner, rel = history_rel(path, sources)
            if owner is not None:
                work.append((owner, "history", path, rel, history_file_user(path, None)))
        bar = tqdm(work, desc="loading", unit="file", disable=quiet or tqdm is None or not work) \
            if tqdm else work
        for source, kind, path, rel, user in bar:
            if tqdm and not quiet:
                bar.set_postfix_str(path.name if kind != "database" else source.name)
            if kind == "database":
                results += load_database(con, source, debug)
                continue
            try:
                results.append(load_file(con, source, kind, path, rel, user, debug))
            except Exception as exc:  # noqa: BLE001 - e.g. the file vanished or is unreadable before its load began
                if debug:
                    traceback.print_exc()
                results.append(FileResult(rel, kind, "refused", 0,
                                          f"could not be read: {type(exc).__name__}: {first_line(exc)}",
                                          source_name=source.name))
        orders = con.execute("select count(*) from raw.orders").fetchone()[0]
        return results, ignored, orders
    finally:
        con.close()


def load_folder(raw_dir: Path, warehouse: str, quiet: bool = False, memory_limit: str | None = None,
                debug: bool = False) -> tuple[list[FileResult], list[tuple[str, str]], int]:
    """Load every file of one raw folder (source ``exports``)."""
    return load_sources([LoadSource(DEFAULT_SOURCE_NAME, "folder", root=raw_dir)], [], warehouse, quiet,
                        memory_limit, debug)


def parse_sources(specs: list[str]) -> list[LoadSource]:
    """``[name=]SPEC`` items as load sources (app_sources.parse_spec); a folder's default
    name is ``exports``. Raises app_sources.SourceError (one line, redacted)."""
    sources: list[LoadSource] = []
    for text in specs:
        spec = app_sources.parse_spec(text)
        named = app_sources.NAME_RE.match(text) is not None and "://" not in text.split("=", 1)[0]
        if spec.kind == "folder":
            sources.append(LoadSource(spec.name if named else DEFAULT_SOURCE_NAME, "folder", root=Path(spec.location)))
        else:
            kind = "dump" if spec.kind.startswith("dump") else spec.kind
            sources.append(LoadSource(spec.name, kind, spec=spec))
    names = [s.name for s in sources]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise app_sources.SourceError(f"two sources named {', '.join(twice)}: name each one (name=SPEC)")
    return sources


def display(result: FileResult, many: bool) -> str:
    """How a result names what it read: a folder file by its path (prefixed with the source
    name when several sources load), a database table as ``<source>.<table>``."""
    if result.path.startswith("table:"):
        return f"{result.source_name}.{result.path[len('table:'):]}"
    return f"{result.source_name}:{result.path}" if many else result.path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", action="append", default=[], metavar="[NAME=]SPEC",
                        help="a source (repeatable): a raw folder, sqlite:///path/app.db, postgresql://user@host:port/db"
                             " (password from PGPASSWORD or ~/.pgpass), or a pg_dump file (.sql, .sql.gz, -F c);"
                             " default: $SOURCE (space-separated specs), else --raw-dir")
    parser.add_argument("--history", action="append", default=[], type=Path, metavar="PATH",
                        help="a trades_history.json outside any folder (repeatable), loaded as the first source's"
                             " (default: $HISTORY, space-separated)")
    parser.add_argument("--raw-dir", default=None,
                        help="folder in the raw-data.md layout, source `exports` (default: $RAW_DIR or data/raw;"
                             " ignored when --source is given)")
    parser.add_argument("--warehouse", default=os.environ.get("WAREHOUSE", "warehouse.duckdb"),
                        help="DuckDB file to load into (default: $WAREHOUSE or warehouse.duckdb)")
    parser.add_argument("--memory-limit", default=os.environ.get("DUCKDB_MEMORY_LIMIT", "3GB"),
                        help="DuckDB memory_limit for the load (default: $DUCKDB_MEMORY_LIMIT or 3GB)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar, only refusals and the summary")
    parser.add_argument("--debug", action="store_true", help="print the traceback of a refused file's failure")
    parser.add_argument("--target", choices=["duckdb", "postgres", "spark"], default="duckdb",
                        help="duckdb (default); postgres: then copy raw.* to PostgreSQL (PG* env);"
                             " spark: then write raw.* as Parquet to --parquet-dir")
    parser.add_argument("--parquet-dir", default=os.environ.get("DBT_SPARK_RAW_DIR", "target/spark/raw_parquet"),
                        help="spark: Parquet folder (default: $DBT_SPARK_RAW_DIR or target/spark/raw_parquet)")
    args = parser.parse_args(argv)
    # `make ... SOURCE="old=sqlite:///old/app.db new=postgresql://..."` puts the specs in the
    # environment, so that no password ever sits on a command line (ps, make's echo, logs)
    if not args.source and args.raw_dir is None:
        args.source = os.environ.get("SOURCE", "").split()
    if not args.history:
        args.history = [Path(p) for p in os.environ.get("HISTORY", "").split()]

    if args.source:
        try:
            sources = parse_sources(args.source)
        except app_sources.SourceError as exc:
            print(f"load_raw: {exc}", file=sys.stderr)
            return 2
    else:
        raw_dir = Path(args.raw_dir or os.environ.get("RAW_DIR", "data/raw"))
        if not raw_dir.is_dir():
            print(f"load_raw: raw folder {raw_dir} does not exist", file=sys.stderr)
            return 2
        sources = [LoadSource(DEFAULT_SOURCE_NAME, "folder", root=raw_dir)]
    missing = [path for path in args.history if not path.is_file()]
    if missing:
        print(f"load_raw: history file {missing[0]} does not exist", file=sys.stderr)
        return 2
    started = time.monotonic()
    try:
        results, ignored, order_rows = load_sources(sources, args.history, args.warehouse, args.quiet,
                                                    args.memory_limit, args.debug)
    except duckdb.Error as exc:  # the warehouse itself: locked by another process, not a DuckDB file, ...
        if args.debug:
            traceback.print_exc()
        print(f"load_raw: cannot load into {args.warehouse}: {first_line(exc)}", file=sys.stderr)
        return 2
    many = len(sources) > 1
    for rel, reason in ignored:
        print(f"load_raw: not read {rel}: {'a hidden file' if is_hidden(rel) else reason}", file=sys.stderr)
    unusable = [r for r in results if r.action == "unusable"]
    for result in unusable:
        print(f"load_raw: {result.message}", file=sys.stderr)
    refused = [r for r in results if r.action == "refused"]
    for result in refused:
        print(f"load_raw: refused {display(result, many)}: {result.message}", file=sys.stderr)
    counted = [r for r in results if r.action != "unusable"]
    counts = {action: sum(1 for r in counted if r.action == action)
              for action in ("loaded", "replaced", "skipped", "refused")}
    rows = sum(r.rows for r in counted)
    print(
        f"load_raw: {len(counted)} {'files' if not any(s.kind != 'folder' for s in sources) else 'files/tables'}"
        f" into {args.warehouse} in {time.monotonic() - started:.1f}s: "
        + ", ".join(f"{n} {action}" for action, n in counts.items() if n)
        + (f", {len(ignored)} not read" if ignored else "")
        + (f", {len(unusable)} source(s) unusable" if unusable else "")
        + f"; {rows} rows"
    )
    folders_without_orders = [s for s in sources if s.kind == "folder" and not (s.root / "orders").is_dir()]
    for source in folders_without_orders:
        print(f"load_raw: {source.root} has no orders/ folder: nothing to build", file=sys.stderr)
    if folders_without_orders and not many:
        return 2
    if order_rows == 0:
        where = ", ".join(str(s.root / "orders") if s.kind == "folder" else f"{s.name}.orders" for s in sources)
        print(f"load_raw: no orders loaded from {where} (every orders file is refused, empty"
              " or not read): nothing to build", file=sys.stderr)
        return 2
    if args.target != "duckdb":
        import raw_export

        export_args = [args.target, "--warehouse", args.warehouse, "--out", args.parquet_dir]
        if raw_export.main(export_args + (["--quiet"] if args.quiet else [])) != 0:
            return 1
    problems = refused or unusable or folders_without_orders
    return 1 if problems or [rel for rel, _reason in ignored if not is_hidden(rel)] else 0


if __name__ == "__main__":
    sys.exit(main())
