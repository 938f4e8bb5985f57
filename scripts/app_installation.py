#!/usr/bin/env python3
"""Write one simulated installation of the trading app in the app's own forms.

Input: a raw folder written by ``scripts/generate_sample_data.py``. Its order and
position exports are reduced to the newest version of each id (R1.8: greatest
``updated_at``, then the later file name, then the later row) and written as the
app's database would hold them (``../shared/spec/app-database.md``):

- ``sqlite``: an ``app.db`` with the app's schema (orders, positions, fills,
  usersettings, users); DATETIME text ``YYYY-MM-DD HH:MM:SS.ffffff``, naive India
  wall-clock time;
- ``postgres``: the same tables on a PostgreSQL database (enums ``orderstatus`` and
  ``trademode``, loaded with COPY), columns in another order (the migrations'),
  orders placed before ``--release`` (default 2026-05-15) in naive UTC, later ones
  in India time (positions: ``--positions-release``, by ``opened_at``); fills'
  ``filled_at`` / ``created_at`` always naive UTC;
- ``dump``: ``pg_dump --no-owner --no-acl`` of such a database, plain, gzipped or
  custom format (``-F c``);
- ``split``: two eras: orders and positions placed (opened) before ``--cut`` in a
  SQLite era with their own ids, the rest in a PostgreSQL era whose ids restart at
  1, and a CSV mapping of each era id to the simulator's id.

``fills`` are generated for every executed order that carries ``execution_qty`` and
``execution_price`` (the newer rows): one to three fills whose quantities sum to
``execution_qty`` and whose VWAP is ``execution_price`` (to float precision), the last
at ``execution_time``; charges 0, ``broker_fill_id`` NULL. ``usersettings`` holds a
fake ``broker_creds_encrypted`` blob and ``users`` a fake password hash
(``FAKE_SECRET_MARKER``) so tests can prove a reader never reads them.

The installation is held in memory: this writes test installations (thousands of
orders), it is not a production copier.

Examples::

    python scripts/app_installation.py sqlite RAW data/app.db
    python scripts/app_installation.py postgres RAW "host=127.0.0.1 port=55434 dbname=tradeagent user=trader"
    python scripts/app_installation.py dump "dbname=tradeagent ..." backups/tradeagent.sql.gz --format gzip
    python scripts/app_installation.py split RAW --cut 2025-10-15 --sqlite old/app.db \\
        --postgres "dbname=tradeagent ..." --mapping eras.csv
"""
from __future__ import annotations

import argparse
import csv
import gzip
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterable, Optional, Union

INDIA = timezone(timedelta(hours=5, minutes=30))
IST_OFFSET = timedelta(hours=5, minutes=30)
DEFAULT_RELEASE = date(2026, 5, 15)  # orders: naive UTC before it on PostgreSQL
DEFAULT_POSITIONS_RELEASE = date(2026, 6, 1)  # positions: naive UTC before it on PostgreSQL
FAKE_SECRET_MARKER = "FAKE-SECRET-NEVER-READ"
FILL_SEED = 14

# (column, SQLite type, PostgreSQL type); the order is the app's create_all order (SQLite).
ORDER_SCHEMA = [
    ("id", "INTEGER NOT NULL PRIMARY KEY", "serial primary key"),
    ("user_id", "INTEGER NOT NULL", "integer not null"),
    ("symbol", "VARCHAR(32) NOT NULL", "varchar(64) not null"),
    ("base_symbol", "VARCHAR(32)", "varchar(64)"),
    ("side", "VARCHAR(8) NOT NULL", "varchar(8) not null"),
    ("order_type", "VARCHAR(8)", "varchar(8)"),
    ("quantity", "FLOAT NOT NULL", "double precision not null"),
    ("price", "FLOAT", "double precision"),
    ("avg_price", "FLOAT", "double precision"),
    ("status", "VARCHAR(9) NOT NULL", "orderstatus not null"),
    ("placed_at", "DATETIME NOT NULL", "timestamp without time zone not null"),
    ("updated_at", "DATETIME", "timestamp without time zone"),
    ("filled_at", "DATETIME", "timestamp without time zone"),
    ("closed_at", "DATETIME", "timestamp without time zone"),
    ("orig_source", "VARCHAR(32)", "varchar(32)"),
    ("order_id", "VARCHAR(64)", "varchar(64)"),
    ("broker_order_id", "VARCHAR(64)", "varchar(64)"),
    ("metadata", "JSON", "json"),
    ("reason", "VARCHAR(512)", "varchar(512)"),
    ("rejection_reason", "VARCHAR(512)", "varchar(512)"),
    ("failure_reason", "VARCHAR(512)", "varchar(512)"),
    ("cancelled_reason", "VARCHAR(512)", "varchar(512)"),
    ("first_failed_at", "DATETIME", "timestamp without time zone"),
    ("last_retry_attempt", "DATETIME", "timestamp without time zone"),
    ("last_status_check", "DATETIME", "timestamp without time zone"),
    ("retry_count", "INTEGER", "integer"),
    ("execution_price", "FLOAT", "double precision"),
    ("execution_qty", "FLOAT", "double precision"),
    ("execution_time", "DATETIME", "timestamp without time zone"),
    ("entry_type", "VARCHAR(32)", "varchar(32)"),
    ("trade_mode", "VARCHAR(6)", "trademode"),
]
# The migrations' order (PostgreSQL): the first release's columns, then each added one.
ORDER_PG_ORDER = [
    "id", "user_id", "symbol", "side", "order_type", "quantity", "price", "status", "avg_price",
    "placed_at", "filled_at", "closed_at", "orig_source", "order_id", "broker_order_id", "metadata",
    "failure_reason", "rejection_reason", "cancelled_reason", "retry_count", "first_failed_at",
    "last_retry_attempt", "updated_at", "execution_price", "execution_qty", "execution_time",
    "reason", "entry_type", "trade_mode", "last_status_check", "base_symbol",
]
POSITION_SCHEMA = [
    ("id", "INTEGER NOT NULL PRIMARY KEY", "serial primary key"),
    ("user_id", "INTEGER NOT NULL", "integer not null"),
    ("symbol", "VARCHAR(32) NOT NULL", "varchar(64) not null"),
    ("quantity", "FLOAT", "double precision"),
    ("avg_price", "FLOAT", "double precision"),
    ("unrealized_pnl", "FLOAT", "double precision"),
    ("opened_at", "DATETIME", "timestamp without time zone"),
    ("closed_at", "DATETIME", "timestamp without time zone"),
    ("reentry_count", "INTEGER", "integer"),
    ("reentries", "JSON", "json"),
    ("initial_entry_price", "FLOAT", "double precision"),
    ("last_reentry_price", "FLOAT", "double precision"),
    ("entry_rsi", "FLOAT", "double precision"),
    ("exit_price", "FLOAT", "double precision"),
    ("exit_reason", "VARCHAR(64)", "varchar(64)"),
    ("exit_rsi", "FLOAT", "double precision"),
    ("realized_pnl", "FLOAT", "double precision"),
    ("realized_pnl_pct", "FLOAT", "double precision"),
    # The app declares a FK to orders.id; the simulator writes broker order numbers
    # here, so the column is a plain bigint (the values survive unchanged).
    ("sell_order_id", "BIGINT", "bigint"),
]
FILL_SCHEMA = [
    ("id", "INTEGER NOT NULL PRIMARY KEY", "serial primary key"),
    ("order_id", "INTEGER NOT NULL REFERENCES orders (id)", "integer not null references orders (id)"),
    ("user_id", "INTEGER NOT NULL", "integer not null"),
    ("quantity", "FLOAT NOT NULL", "double precision not null"),
    ("price", "FLOAT NOT NULL", "double precision not null"),
    ("fill_value", "FLOAT", "double precision"),
    ("charges", "FLOAT", "double precision"),
    ("filled_at", "DATETIME NOT NULL", "timestamp without time zone not null"),
    ("created_at", "DATETIME", "timestamp without time zone"),
    ("broker_fill_id", "VARCHAR(64) UNIQUE", "varchar(64) unique"),
]
USERSETTINGS_SCHEMA = [
    ("id", "INTEGER NOT NULL PRIMARY KEY", "serial primary key"),
    ("user_id", "INTEGER NOT NULL", "integer not null"),
    ("trade_mode", "VARCHAR(6)", "trademode"),
    ("broker", "VARCHAR(32)", "varchar(32)"),
    ("broker_status", "VARCHAR(32)", "varchar(32)"),
    ("broker_creds_encrypted", "BLOB", "bytea"),
    ("ui_preferences", "JSON", "json"),
    ("created_at", "DATETIME", "timestamp without time zone"),
    ("updated_at", "DATETIME", "timestamp without time zone"),
]
USERS_SCHEMA = [
    ("id", "INTEGER NOT NULL PRIMARY KEY", "integer primary key"),
    ("email", "VARCHAR(255)", "varchar(255)"),
    ("password_hash", "VARCHAR(255)", "varchar(255)"),
    ("api_token", "VARCHAR(255)", "varchar(255)"),
]
SCHEMAS = {"users": USERS_SCHEMA, "usersettings": USERSETTINGS_SCHEMA, "orders": ORDER_SCHEMA,
           "positions": POSITION_SCHEMA, "fills": FILL_SCHEMA}

ORDER_STATUSES = ["amo", "pending_execution", "pending", "ongoing", "sell", "closed", "failed",
                  "retry_pending", "rejected", "cancelled", "AMO", "ONGOING", "SELL", "CLOSED"]
TRADE_MODES = ["paper", "broker", "PAPER", "BROKER"]
INT_COLUMNS = {"id", "user_id", "retry_count", "reentry_count", "sell_order_id"}
FLOAT_COLUMNS = {"quantity", "price", "avg_price", "execution_price", "execution_qty", "unrealized_pnl",
                 "initial_entry_price", "last_reentry_price", "entry_rsi", "exit_price", "exit_rsi",
                 "realized_pnl", "realized_pnl_pct", "fill_value", "charges"}
TIMESTAMP_COLUMNS = {"placed_at", "updated_at", "filled_at", "closed_at", "execution_time", "first_failed_at",
                     "last_retry_attempt", "last_status_check", "opened_at", "created_at"}


class InstallationError(Exception):
    """Input that cannot be written; the message names the file and row."""


Row = dict[str, Any]


@dataclass
class Installation:
    """Typed rows (int, float, str, naive India datetime, None), ids as in the simulator."""

    orders: list[Row]
    positions: list[Row]
    fills: list[Row] = field(default_factory=list)
    user_ids: list[int] = field(default_factory=list)


# ---------------------------------------------------------------- reading the raw folder
def parse_india(text: str) -> datetime:
    """ISO text to naive India wall-clock time (an offset or ``Z`` is converted)."""
    value = datetime.fromisoformat(text.strip())
    if value.tzinfo is not None:
        value = value.astimezone(INDIA).replace(tzinfo=None)
    return value


def _typed(column: str, text: Optional[str], where: str) -> Any:
    if text is None or text == "":
        return None
    try:
        if column in TIMESTAMP_COLUMNS:
            return parse_india(text)
        if column in FLOAT_COLUMNS:
            return float(text)
        if column in INT_COLUMNS:
            return int(float(text)) if "." in text else int(text)
    except ValueError as exc:
        raise InstallationError(f"{where}: column {column}: cannot read {text!r} ({exc})") from None
    return text


def _read_export(path: Path) -> tuple[list[str], Iterable[list[Optional[str]]]]:
    if path.suffix.lower() == ".parquet":
        import duckdb

        con = duckdb.connect()
        try:
            con.execute("set TimeZone = 'UTC'")
            names = [r[0] for r in con.execute(f"describe select * from read_parquet('{path.as_posix()}')").fetchall()]
            casts = ", ".join(f'cast("{n}" as varchar)' for n in names)
            rows = con.execute(f"select {casts} from read_parquet('{path.as_posix()}')").fetchall()
        finally:
            con.close()
        return names, [list(r) for r in rows]
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = [h.strip() for h in next(reader)]
        return header, [row for row in reader]


def _newest_versions(folder: Path, columns: list[str], version_key: Optional[str]) -> list[Row]:
    """The newest valid version of each id across the exports of ``folder`` (R1.8)."""
    best: dict[int, tuple[tuple, Row]] = {}
    files = sorted((p for p in folder.iterdir() if p.suffix.lower() in (".csv", ".parquet")),
                   key=lambda p: p.name) if folder.is_dir() else []
    wanted = set(columns)
    for file_index, path in enumerate(files):
        header, rows = _read_export(path)
        for row_index, values in enumerate(rows, start=1):
            where = f"{path.parent.name}/{path.name} row {row_index}"
            record = {c: v for c, v in zip(header, values) if c in wanted}
            typed = {c: _typed(c, record.get(c), where) for c in columns}
            if typed["id"] is None:
                raise InstallationError(f"{where}: no id")
            stamp = typed.get(version_key) if version_key else None
            key = (stamp is not None, stamp or datetime.min, file_index, row_index)
            current = best.get(typed["id"])
            if current is None or key > current[0]:
                best[typed["id"]] = (key, typed)
    return [best[i][1] for i in sorted(best)]


def load_raw_folder(folder: Union[str, Path], seed: int = FILL_SEED) -> Installation:
    """Read a simulator raw folder: newest orders and positions, generated fills."""
    folder = Path(folder)
    if not (folder / "orders").is_dir():
        raise InstallationError(f"{folder} has no orders/ folder (not a raw folder of generate_sample_data.py)")
    orders = _newest_versions(folder / "orders", [c for c, _, _ in ORDER_SCHEMA], "updated_at")
    positions = _newest_versions(folder / "positions", [c for c, _, _ in POSITION_SCHEMA], None)
    users = sorted({o["user_id"] for o in orders} | {p["user_id"] for p in positions})
    return Installation(orders, positions, generate_fills(orders, seed), users)


def generate_fills(orders: list[Row], seed: int = FILL_SEED, first_id: int = 1) -> list[Row]:
    """One to three fills per order with ``execution_qty`` > 0 and ``execution_price`` > 0:
    quantities sum to ``execution_qty``, VWAP = ``execution_price``, last at ``execution_time``
    (else ``filled_at``, else ``placed_at``). Deterministic per (seed, order id)."""
    fills: list[Row] = []
    next_id = first_id
    for order in orders:
        qty, price = order.get("execution_qty"), order.get("execution_price")
        if not qty or not price or qty <= 0 or price <= 0:
            continue
        last_time = order.get("execution_time") or order.get("filled_at") or order["placed_at"]
        rng = random.Random(seed * 1_000_003 + order["id"])
        parts = 1
        if qty.is_integer():
            roll = rng.random()
            parts = 3 if roll < 0.15 and qty >= 3 else 2 if roll < 0.4 and qty >= 2 else 1
        if parts == 1:
            quantities = [qty]
        else:
            cuts = sorted(rng.sample(range(1, int(qty)), parts - 1))
            quantities = [float(b - a) for a, b in zip([0] + cuts, cuts + [int(qty)])]
        # every part but the largest at a tick price near the VWAP; the largest part's
        # price makes the VWAP exact (it moves least there)
        solved = quantities.index(max(quantities))
        prices = [round(round(price * (1 + rng.uniform(-0.003, 0.003)) / 0.05) * 0.05, 2) for _ in quantities]
        rest = price * qty - sum(q * p for i, (q, p) in enumerate(zip(quantities, prices)) if i != solved)
        prices[solved] = rest / quantities[solved]
        times = [last_time]
        for _ in quantities[:-1]:
            times.insert(0, max(order["placed_at"], times[0] - timedelta(seconds=rng.randint(1, 90))))
        for q, p, t in zip(quantities, prices, times):
            fills.append({
                "id": next_id, "order_id": order["id"], "user_id": order["user_id"], "quantity": q,
                "price": p, "fill_value": q * p, "charges": 0.0, "filled_at": t,
                "created_at": t + timedelta(microseconds=rng.randint(1000, 900_000)),
                "broker_fill_id": None,
            })
            next_id += 1
    return fills


def _installation(source: Union[str, Path, Installation]) -> Installation:
    return source if isinstance(source, Installation) else load_raw_folder(source)


def _settings_rows(user_ids: list[int], orders: list[Row]) -> tuple[list[Row], list[Row]]:
    start = min((o["placed_at"] for o in orders), default=datetime(2025, 1, 1))
    users, settings = [], []
    for index, uid in enumerate(user_ids, start=1):
        users.append({"id": uid, "email": f"user{uid}@example.invalid",
                      "password_hash": f"$2b$12${FAKE_SECRET_MARKER}-password-hash-{uid}",
                      "api_token": f"{FAKE_SECRET_MARKER}-token-{uid}"})
        settings.append({
            "id": index, "user_id": uid, "trade_mode": "paper" if uid % 3 == 0 else "broker",
            "broker": "kotak_neo", "broker_status": "connected",
            "broker_creds_encrypted": f"gAAAAAB{FAKE_SECRET_MARKER}-broker-creds-{uid}".encode(),
            "ui_preferences": json.dumps({"theme": "dark"}),
            "created_at": start, "updated_at": start,
        })
    return users, settings


# ---------------------------------------------------------------- SQLite
def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def write_sqlite(source: Union[str, Path, Installation], path: Union[str, Path]) -> Installation:
    """Create the app's SQLite database at ``path`` (replaced if present): naive India
    time as DATETIME text ``YYYY-MM-DD HH:MM:SS.ffffff``, rollback-journal mode."""
    inst = _installation(source)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in (path, Path(str(path) + "-journal"), Path(str(path) + "-wal"), Path(str(path) + "-shm")):
        stale.unlink(missing_ok=True)
    users, settings = _settings_rows(inst.user_ids, inst.orders)
    con = sqlite3.connect(path)
    try:
        with con:
            for table, schema in SCHEMAS.items():
                columns = ", ".join(f"{name} {sqlite_type}" for name, sqlite_type, _ in schema)
                con.execute(f"CREATE TABLE {table} ({columns})")
            for table, rows in (("users", users), ("usersettings", settings), ("orders", inst.orders),
                                ("positions", inst.positions), ("fills", inst.fills)):
                names = [c for c, _, _ in SCHEMAS[table]]
                con.executemany(
                    f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})",
                    ([_sqlite_value(row.get(c)) for c in names] for row in rows))
    finally:
        con.close()
    return inst


# ---------------------------------------------------------------- PostgreSQL
def to_utc_naive(value: Optional[datetime]) -> Optional[datetime]:
    """Naive India wall-clock time -> the naive UTC the app's PostgreSQL era stored."""
    return None if value is None else value - IST_OFFSET


def _shift(row: Row, columns: Iterable[str]) -> Row:
    out = dict(row)
    for column in columns:
        if isinstance(out.get(column), datetime):
            out[column] = to_utc_naive(out[column])
    return out


def postgres_rows(inst: Installation, release: date = DEFAULT_RELEASE,
                  positions_release: date = DEFAULT_POSITIONS_RELEASE) -> dict[str, list[Row]]:
    """The rows as the app's PostgreSQL stores them: orders placed before ``release``
    (India date) and positions opened before ``positions_release`` in naive UTC (every
    timestamp of the row), later rows in India time; fills always naive UTC."""
    release_at = datetime.combine(release, datetime.min.time())
    positions_at = datetime.combine(positions_release, datetime.min.time())
    orders = [_shift(o, TIMESTAMP_COLUMNS) if o["placed_at"] < release_at else o for o in inst.orders]
    positions = [_shift(p, TIMESTAMP_COLUMNS) if p.get("opened_at") and p["opened_at"] < positions_at else p
                 for p in inst.positions]
    fills = [_shift(f, ("filled_at", "created_at")) for f in inst.fills]
    return {"orders": orders, "positions": positions, "fills": fills}


def _pg_columns(table: str) -> list[tuple[str, str]]:
    schema = {name: pg_type for name, _, pg_type in SCHEMAS[table]}
    if table == "orders":
        return [(name, schema[name]) for name in ORDER_PG_ORDER]
    return list(schema.items())


def write_postgres(source: Union[str, Path, Installation], conninfo: str, *, release: date = DEFAULT_RELEASE,
                   positions_release: date = DEFAULT_POSITIONS_RELEASE) -> Installation:
    """Create the app's tables on the database ``conninfo`` (libpq string or URL; existing
    app tables and enums there are dropped) and load them with COPY."""
    import psycopg

    inst = _installation(source)
    rows = postgres_rows(inst, release, positions_release)
    users, settings = _settings_rows(inst.user_ids, inst.orders)
    statuses = ORDER_STATUSES + sorted({o["status"] for o in inst.orders} - set(ORDER_STATUSES))
    modes = TRADE_MODES + sorted({o["trade_mode"] for o in inst.orders if o["trade_mode"]} - set(TRADE_MODES))
    with psycopg.connect(conninfo, autocommit=False) as con:
        con.execute("drop table if exists fills, positions, orders, usersettings, users cascade")
        con.execute("drop type if exists orderstatus, trademode")
        con.execute("create type orderstatus as enum (" + ", ".join(_literal(s) for s in statuses) + ")")
        con.execute("create type trademode as enum (" + ", ".join(_literal(m) for m in modes) + ")")
        for table in SCHEMAS:
            columns = ", ".join(f"{name} {pg_type}" for name, pg_type in _pg_columns(table))
            con.execute(f"create table {table} ({columns})")
        for table, table_rows in (("users", users), ("usersettings", settings), ("orders", rows["orders"]),
                                  ("positions", rows["positions"]), ("fills", rows["fills"])):
            names = [name for name, _ in _pg_columns(table)]
            with con.cursor() as cur:
                with cur.copy(f"copy {table} ({', '.join(names)}) from stdin") as copy:
                    for row in table_rows:
                        copy.write_row([row.get(c) for c in names])
            if any(pg_type.startswith("serial") for _, pg_type in _pg_columns(table)):
                con.execute(f"select setval(pg_get_serial_sequence('{table}', 'id'),"
                            f" coalesce((select max(id) from {table}), 0) + 1, false)")
        con.commit()
    return inst


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _libpq_env(conninfo: str) -> tuple[str, dict[str, str]]:
    """(conninfo without its password, environment with PGPASSWORD) for pg_dump."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    params = conninfo_to_dict(conninfo)
    env = dict(os.environ)
    password = params.pop("password", None)
    if password is not None:
        env["PGPASSWORD"] = str(password)
    return make_conninfo(**{k: str(v) for k, v in params.items()}), env


def dump(conninfo: str, path: Union[str, Path], fmt: str = "plain") -> Path:
    """``pg_dump --no-owner --no-acl`` of the database ``conninfo`` to ``path``: ``plain``
    SQL, ``gzip`` (plain SQL, gzipped, like the app's nightly backups) or ``custom``
    (``-F c``). The password goes through PGPASSWORD, never the command line."""
    if fmt not in ("plain", "gzip", "custom"):
        raise InstallationError(f"unknown dump format {fmt!r} (plain, gzip, custom)")
    pg_dump = shutil.which(os.environ.get("PG_DUMP", "pg_dump"))
    if not pg_dump:
        raise InstallationError("pg_dump is not installed (apt-get install postgresql-client)")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    safe, env = _libpq_env(conninfo)
    args = [pg_dump, "--no-owner", "--no-acl", "-d", safe]
    if fmt == "gzip":
        with gzip.open(path, "wb") as out:
            process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
            assert process.stdout is not None
            shutil.copyfileobj(process.stdout, out)
            stderr = process.stderr.read() if process.stderr else b""
            code = process.wait()
    else:
        result = subprocess.run(args + (["-F", "c"] if fmt == "custom" else []) + ["-f", str(path)],
                                capture_output=True, env=env)
        code, stderr = result.returncode, result.stderr
    if code != 0:
        lines = stderr.decode("utf-8", "replace").strip().splitlines()
        raise InstallationError(f"pg_dump failed: {lines[0] if lines else f'exit code {code}'}")
    return path


# ---------------------------------------------------------------- two eras
@dataclass
class EraSplit:
    sqlite: Installation
    postgres: Installation
    mapping: Path


def split_installation(inst: Installation, cut: date, seed: int = FILL_SEED) -> tuple[Installation, Installation,
                                                                                 list[tuple[str, str, int, int]]]:
    """(SQLite era, PostgreSQL era, mapping rows (table, era, era id, original id)):
    orders placed and positions opened before ``cut`` (India date) stay in the SQLite
    era with their ids; the others move to the PostgreSQL era, renumbered from 1 in
    original id order. Each era gets its own fills (ids from 1)."""
    cut_at = datetime.combine(cut, datetime.min.time())
    old_orders = [o for o in inst.orders if o["placed_at"] < cut_at]
    new_orders = [o for o in inst.orders if o["placed_at"] >= cut_at]
    old_positions = [p for p in inst.positions if p.get("opened_at") is None or p["opened_at"] < cut_at]
    new_positions = [p for p in inst.positions if p.get("opened_at") is not None and p["opened_at"] >= cut_at]
    mapping: list[tuple[str, str, int, int]] = []
    for table, old, new in (("orders", old_orders, new_orders), ("positions", old_positions, new_positions)):
        mapping += [(table, "sqlite", r["id"], r["id"]) for r in old]
        mapping += [(table, "postgresql", i, r["id"]) for i, r in enumerate(new, start=1)]
    renumbered_orders = [dict(o, id=i) for i, o in enumerate(new_orders, start=1)]
    renumbered_positions = [dict(p, id=i) for i, p in enumerate(new_positions, start=1)]
    old_era = Installation(old_orders, old_positions, generate_fills(old_orders, seed), inst.user_ids)
    # fills of the new era: generated from the original ids (same fills as the whole
    # installation), then pointed at the new order ids
    new_id = {o["id"]: i for i, o in enumerate(new_orders, start=1)}
    new_fills = [dict(f, id=i, order_id=new_id[f["order_id"]])
                 for i, f in enumerate(generate_fills(new_orders, seed), start=1)]
    new_era = Installation(renumbered_orders, renumbered_positions, new_fills, inst.user_ids)
    return old_era, new_era, mapping


def split_eras(source: Union[str, Path, Installation], cut: date, sqlite_path: Union[str, Path], conninfo: str,
               mapping_path: Union[str, Path], *, release: date = DEFAULT_RELEASE,
               positions_release: date = DEFAULT_POSITIONS_RELEASE) -> EraSplit:
    """Write the two eras (``split_installation``): SQLite to ``sqlite_path``, PostgreSQL
    to ``conninfo``; the CSV ``mapping_path`` has ``table,era,id,original_id``."""
    old_era, new_era, mapping = split_installation(_installation(source), cut)
    write_sqlite(old_era, sqlite_path)
    write_postgres(new_era, conninfo, release=release, positions_release=positions_release)
    mapping_path = Path(mapping_path)
    mapping_path.parent.mkdir(parents=True, exist_ok=True)
    with mapping_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["table", "era", "id", "original_id"])
        writer.writerows(mapping)
    return EraSplit(old_era, new_era, mapping_path)


# ---------------------------------------------------------------- CLI
def _date(text: str) -> date:
    return date.fromisoformat(text)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     epilog="Exit codes: 0 written, 1 failed (one line on stderr).",
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("sqlite", help="write the app's SQLite app.db")
    p.add_argument("raw", type=Path, help="raw folder of generate_sample_data.py")
    p.add_argument("path", type=Path, help="the app.db to write (replaced)")
    p = sub.add_parser("postgres", help="load the app's tables into a PostgreSQL database")
    p.add_argument("raw", type=Path, help="raw folder of generate_sample_data.py")
    p.add_argument("conninfo", help="libpq conninfo or URL (password: prefer PGPASSWORD)")
    p.add_argument("--release", type=_date, default=DEFAULT_RELEASE,
                   help=f"orders placed before it are naive UTC (default {DEFAULT_RELEASE})")
    p.add_argument("--positions-release", type=_date, default=DEFAULT_POSITIONS_RELEASE,
                   help=f"positions opened before it are naive UTC (default {DEFAULT_POSITIONS_RELEASE})")
    p = sub.add_parser("dump", help="pg_dump a database written by `postgres`")
    p.add_argument("conninfo")
    p.add_argument("path", type=Path)
    p.add_argument("--format", choices=["plain", "gzip", "custom"], default="plain")
    p = sub.add_parser("split", help="two eras: SQLite before --cut, PostgreSQL (ids from 1) after")
    p.add_argument("raw", type=Path)
    p.add_argument("--cut", type=_date, required=True, help="India date: orders placed before it go to SQLite")
    p.add_argument("--sqlite", type=Path, required=True)
    p.add_argument("--postgres", required=True, help="libpq conninfo or URL of the PostgreSQL era")
    p.add_argument("--mapping", type=Path, required=True, help="CSV: table,era,id,original_id")
    p.add_argument("--release", type=_date, default=DEFAULT_RELEASE)
    p.add_argument("--positions-release", type=_date, default=DEFAULT_POSITIONS_RELEASE)
    args = parser.parse_args(argv)
    try:
        if args.command == "sqlite":
            inst = write_sqlite(args.raw, args.path)
            print(f"app_installation: {args.path}: {len(inst.orders)} orders, {len(inst.positions)} positions,"
                  f" {len(inst.fills)} fills")
        elif args.command == "postgres":
            inst = write_postgres(args.raw, args.conninfo, release=args.release,
                                  positions_release=args.positions_release)
            print(f"app_installation: postgres: {len(inst.orders)} orders, {len(inst.positions)} positions,"
                  f" {len(inst.fills)} fills")
        elif args.command == "dump":
            print(f"app_installation: {dump(args.conninfo, args.path, args.format)}")
        else:
            split = split_eras(args.raw, args.cut, args.sqlite, args.postgres, args.mapping,
                               release=args.release, positions_release=args.positions_release)
            print(f"app_installation: SQLite era {len(split.sqlite.orders)} orders, PostgreSQL era"
                  f" {len(split.postgres.orders)} orders; mapping {split.mapping}")
    except InstallationError as exc:
        print(f"app_installation: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - psycopg, sqlite3, OS errors: one line
        lines = str(exc).strip().splitlines()
        print(f"app_installation: {type(exc).__name__}: {lines[0] if lines else ''}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
