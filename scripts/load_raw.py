#!/usr/bin/env python3
"""Load a raw folder of trading-app exports into the warehouse's ``raw`` schema.

Layout (``../shared/spec/raw-data.md``)::

    <raw>/orders/*.csv | *.csv.gz | *.parquet
    <raw>/positions/*.csv | *.csv.gz | *.parquet
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

Once a build has created the staging views, the summary also names every file
loaded now most of whose rows staging quarantines (exit 1); after a build,
``scripts/check_quarantine.py`` does the same for every file.

Exit codes: 0 all files loaded (or already loaded), 1 some file refused, not
read or mostly quarantined (or the copy to the target failed), 2 nothing to build: bad
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

import duckdb

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
    action: str  # loaded | replaced | skipped | refused
    rows: int = 0
    message: str = ""
    quarantined: int = 0  # rows the staging views (of an earlier build) quarantine
    top_reason: str = ""


def table_ddl() -> list[str]:
    meta = ", ".join(f"{name} {typ}" for name, typ in META_COLUMNS)
    orders = ", ".join(f"{c} varchar" for c in ORDER_COLUMNS)
    positions = ", ".join(f"{c} varchar" for c in POSITION_COLUMNS)
    return [
        "create schema if not exists raw",
        f"create table if not exists raw.orders ({orders}, _extra varchar, {meta})",
        f"create table if not exists raw.positions ({positions}, _extra varchar, {meta})",
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

    for kind in ("orders", "positions"):
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
        if entry.name not in ("orders", "positions", "trade_history"):
            skip(entry, "not part of the raw layout (orders/, positions/, trade_history/)")
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


def load_tabular(con: duckdb.DuckDBPyConnection, path: Path, rel: str, table: str,
                 known: list[str], required: list[str], loaded_at: str) -> tuple[int, list[str]]:
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
    source = tabular_source(path, header, rejects, newline)
    if header is not None:
        columns = header
    else:
        try:
            columns = [row[0] for row in con.execute(f"describe select * from {source}").fetchall()]
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
            f"insert into raw.{table} select {', '.join(selects)}, {sql_str(rel)}, ordinality,"
            f" cast({sql_str(loaded_at)} as timestamptz) from {source} with ordinality"
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
                "insert into raw.rejected_lines values (?, ?, ?, ?, ?, cast(? as timestamptz))",
                [table, rel, line, raw_line, message, loaded_at],
            )
        rejected = len(rows)
    loaded = con.execute(f"select count(*) from raw.{table} where _source_file = ?", [rel]).fetchone()[0]
    return loaded + rejected, columns


def first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


# ---------------------------------------------------------------- history JSON
def split_history(path: Path, workdir: Path) -> Path:
    """Write the ``trades`` array of a history file to its own file and return it.

    The file is one JSON object, far larger than DuckDB's per-object limit when
    production-sized. ``json.dump(indent=2)`` puts the array's closing bracket
    alone on a line indented by two spaces, and no string holds a raw newline,
    so the array is found with two byte searches; everything outside it is
    validated with the standard parser. Files in any other layout (compact,
    another indent) are parsed whole by Python's ``json`` and re-written one
    trade per line.
    """
    data = open_text_bytes(path)
    if not data.strip():
        raise RefusedFile("is empty")
    out = workdir / "trades.json"
    start_key = data.find(b'\n  "trades": [')
    if start_key >= 0:
        open_bracket = start_key + len(b'\n  "trades": ')
        if data[open_bracket:open_bracket + 2] == b"[]":
            check_outside(data)
            out.write_bytes(b"[]")
            return out
        end = data.find(b"\n  ]", open_bracket)
        if end >= 0:
            outside = data[:open_bracket] + b"[]" + data[end + len(b"\n  ]"):]
            check_outside(outside)
            with out.open("wb") as handle:
                handle.write(memoryview(data)[open_bracket:end + len(b"\n  ]")])
            return out
    return split_history_generic(data, out)


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


def load_history(con: duckdb.DuckDBPyConnection, path: Path, rel: str, raw_dir: Path,
                 loaded_at: str) -> int:
    user_match = USER_DIR.match(path.parent.name) if path.parent != raw_dir / "trade_history" else None
    file_user = sql_str(user_match.group(1)) if user_match else "null"
    with tempfile.TemporaryDirectory(prefix="load_raw_") as tmp:
        array_file = split_history(path, Path(tmp))
        try:
            con.execute(
                f"insert into raw.history_trades select {file_user}, cast(json as varchar),"
                f" {sql_str(rel)}, ordinality, cast({sql_str(loaded_at)} as timestamptz)"
                f" from read_json_objects({sql_str(str(array_file))}, format='array') with ordinality"
            )
        except duckdb.Error as exc:
            raise RefusedFile(f"is not valid JSON: {first_line(exc)}") from exc
    con.execute(
        """
        insert into raw.history_reentry_items
        select item_index, cast(item as varchar), _source_file, _source_row, _loaded_at
        from (
            select
                unnest(items) as item,
                unnest(range(1, len(items) + 1)) as item_index,
                _source_file, _source_row, _loaded_at
            from (
                select
                    try_cast(json_extract(trade, '$.reentries') as json[]) as items,
                    _source_file, _source_row, _loaded_at
                from raw.history_trades
                where _source_file = ?
            )
            where items is not null
        )
        """,
        [rel],
    )
    return con.execute("select count(*) from raw.history_trades where _source_file = ?", [rel]).fetchone()[0]


# ---------------------------------------------------------------- driver
TABLES_BY_KIND = {
    "orders": ["orders", "rejected_lines"],
    "positions": ["positions", "rejected_lines"],
    "history": ["history_trades", "history_reentry_items"],
}


def load_file(con: duckdb.DuckDBPyConnection, raw_dir: Path, kind: str, path: Path,
              debug: bool = False) -> FileResult:
    rel = str(path.relative_to(raw_dir))
    stat = path.stat()
    previous = con.execute(
        "select content_hash, size_bytes, source_mtime_ns from raw.load_log"
        " where source_file = ? and action in ('loaded', 'replaced') order by loaded_at desc limit 1",
        [rel],
    ).fetchone()
    if previous and previous[1] == stat.st_size and previous[2] == stat.st_mtime_ns:
        return FileResult(rel, kind, "skipped")  # same size and modification time: not re-read
    digest = file_hash(path)
    if previous and previous[0] == digest:
        return FileResult(rel, kind, "skipped")
    loaded_at = datetime.now(timezone.utc).isoformat()
    action = "replaced" if previous else "loaded"
    con.execute("begin transaction")
    try:
        for table in TABLES_BY_KIND[kind]:
            con.execute(f"delete from raw.{table} where _source_file = ?", [rel])
        columns: list[str] | None = None
        if kind == "orders":
            rows, columns = load_tabular(con, path, rel, "orders", ORDER_COLUMNS, ORDER_REQUIRED, loaded_at)
        elif kind == "positions":
            rows, columns = load_tabular(con, path, rel, "positions", POSITION_COLUMNS, POSITION_REQUIRED,
                                         loaded_at)
        else:
            rows = load_history(con, path, rel, raw_dir, loaded_at)
        con.execute(
            "insert into raw.load_log (source_file, kind, content_hash, size_bytes, rows_loaded, action, message,"
            " loaded_at, source_columns, source_mtime_ns) values (?, ?, ?, ?, ?, ?, null, cast(? as timestamptz), ?, ?)",
            [rel, kind, digest, stat.st_size, rows, action, loaded_at,
             json.dumps(columns) if columns is not None else None, stat.st_mtime_ns],
        )
        con.execute("commit")
        return FileResult(rel, kind, action, rows)
    except Exception as exc:  # noqa: BLE001 - any failure inside one file refuses that file only (R6)
        if debug:
            traceback.print_exc()
        try:
            con.execute("rollback")
        except duckdb.Error:
            pass  # the transaction is already gone
        if isinstance(exc, RefusedFile):
            message = str(exc)
        elif isinstance(exc, duckdb.Error):
            message = f"could not be loaded: {first_line(exc)}"
        elif isinstance(exc, RecursionError):
            message = "could not be loaded: nested too deeply to parse"
        else:
            message = f"could not be loaded: {type(exc).__name__}: {first_line(exc)}"
        con.execute(
            "insert into raw.load_log (source_file, kind, content_hash, size_bytes, rows_loaded, action, message,"
            " loaded_at, source_columns, source_mtime_ns) values (?, ?, ?, ?, 0, 'refused', ?, cast(? as timestamptz),"
            " null, ?)",
            [rel, kind, digest, stat.st_size, message, loaded_at, stat.st_mtime_ns],
        )
        return FileResult(rel, kind, "refused", 0, message)


STAGING_VIEWS = {"orders": "stg_trading_app__orders", "positions": "stg_trading_app__positions",
                 "history": "stg_trading_app__history_trades"}


def preview_quarantine(con: duckdb.DuckDBPyConnection, results: list[FileResult]) -> None:
    """Count, for every file loaded by this run, the rows staging quarantines.

    Staging is a set of views over the raw tables, so once a build has created
    them the loader can ask them at once. Before the first build there are no
    views and nothing is counted here (scripts/check_quarantine.py checks
    after the build either way).
    """
    for kind, view in STAGING_VIEWS.items():
        files = [r for r in results if r.kind == kind and r.action in ("loaded", "replaced") and r.rows]
        if not files:
            continue
        try:
            rows = con.execute(
                f"select source_file, count(*), mode(quarantine_reason) from staging.{view}"
                f" where quarantine_reason is not null and source_file in (select unnest(?)) group by 1",
                [[r.path for r in files]]).fetchall()
            rejected = dict(con.execute(
                "select _source_file, count(*) from raw.rejected_lines where _source_file in (select unnest(?))"
                " group by 1", [[r.path for r in files]]).fetchall())
        except duckdb.Error:
            return  # not built yet (or built by another version): the post-build check decides
        by_file = {row[0]: row for row in rows}
        for result in files:
            _file, count, reason = by_file.get(result.path, (result.path, 0, None))
            result.quarantined = count + rejected.get(result.path, 0)
            result.top_reason = reason or "unparseable CSV line"


def load_folder(raw_dir: Path, warehouse: str, quiet: bool = False, memory_limit: str | None = None,
                debug: bool = False) -> tuple[list[FileResult], list[tuple[str, str]], int]:
    """Load every file of the folder; returns the results, the files not read
    (with the reason) and the number of order rows in the warehouse."""
    con = duckdb.connect(warehouse)
    try:
        con.execute("set TimeZone = 'UTC'")
        if memory_limit:
            con.execute(f"set memory_limit = {sql_str(memory_limit)}")
        for statement in table_ddl():
            con.execute(statement)
        files, ignored = discover(raw_dir)
        results = []
        bar = tqdm(files, desc="loading", unit="file", disable=quiet or tqdm is None or not files) \
            if tqdm else files
        for kind, path in bar:
            if tqdm and not quiet:
                bar.set_postfix_str(path.name)
            try:
                results.append(load_file(con, raw_dir, kind, path, debug))
            except Exception as exc:  # noqa: BLE001 - e.g. the file vanished or is unreadable before its load began
                if debug:
                    traceback.print_exc()
                results.append(FileResult(str(path.relative_to(raw_dir)), kind, "refused", 0,
                                          f"could not be read: {type(exc).__name__}: {first_line(exc)}"))
        preview_quarantine(con, results)
        orders = con.execute("select count(*) from raw.orders").fetchone()[0]
        return results, ignored, orders
    finally:
        con.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--raw-dir", default=os.environ.get("RAW_DIR", "data/raw"),
                        help="folder in the raw-data.md layout (default: $RAW_DIR or data/raw)")
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

    raw_dir = Path(args.raw_dir)
    if not raw_dir.is_dir():
        print(f"load_raw: raw folder {raw_dir} does not exist", file=sys.stderr)
        return 2
    started = time.monotonic()
    try:
        results, ignored, order_rows = load_folder(raw_dir, args.warehouse, args.quiet, args.memory_limit,
                                                   args.debug)
    except duckdb.Error as exc:  # the warehouse itself: locked by another process, not a DuckDB file, ...
        if args.debug:
            traceback.print_exc()
        print(f"load_raw: cannot load into {args.warehouse}: {first_line(exc)}", file=sys.stderr)
        return 2
    for rel, reason in ignored:
        print(f"load_raw: not read {rel}: {'a hidden file' if is_hidden(rel) else reason}", file=sys.stderr)
    refused = [r for r in results if r.action == "refused"]
    for result in refused:
        print(f"load_raw: refused {result.path}: {result.message}", file=sys.stderr)
    mostly_quarantined = [r for r in results if r.rows and r.quarantined * 2 > r.rows]
    for result in mostly_quarantined:
        print(f"load_raw: {result.path}: {result.quarantined} of {result.rows} rows quarantined"
              f" (most often: {result.top_reason})", file=sys.stderr)
    counts = {action: sum(1 for r in results if r.action == action)
              for action in ("loaded", "replaced", "skipped", "refused")}
    rows = sum(r.rows for r in results)
    print(
        f"load_raw: {len(results)} files into {args.warehouse} in {time.monotonic() - started:.1f}s: "
        + ", ".join(f"{n} {action}" for action, n in counts.items() if n)
        + (f", {len(ignored)} not read" if ignored else "")
        + (f", {len(mostly_quarantined)} mostly quarantined" if mostly_quarantined else "")
        + f"; {rows} rows"
    )
    if not (raw_dir / "orders").is_dir():
        print(f"load_raw: {raw_dir} has no orders/ folder: nothing to build", file=sys.stderr)
        return 2
    if order_rows == 0:
        print(f"load_raw: no orders loaded from {raw_dir / 'orders'} (every orders file is refused, empty"
              " or not read): nothing to build", file=sys.stderr)
        return 2
    if args.target != "duckdb":
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import raw_export

        export_args = [args.target, "--warehouse", args.warehouse, "--out", args.parquet_dir]
        if raw_export.main(export_args + (["--quiet"] if args.quiet else [])) != 0:
            return 1
    return 1 if refused or mostly_quarantined or [rel for rel, _reason in ignored if not is_hidden(rel)] else 0


if __name__ == "__main__":
    sys.exit(main())
