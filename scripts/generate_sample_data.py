#!/usr/bin/env python3
"""Seeded simulator of the auto-trading app: writes a raw folder and its truth.

The app (see ``shared/spec/raw-data.md``) buys Indian equities when RSI(10)
drops below 30, averages down ("reentries") at RSI levels 30/20/10 while the
position is open, and exits when the price gets back to an EMA9-like target or
RSI rises above 50. This script simulates that app for several users and
symbols over weekday trading days and writes what the app would hand the
warehouse, quirks included:

``<out>/orders/orders_<date>.csv|parquet``   order exports (older and newer era)
``<out>/positions/positions_<date>.csv``     the app's own positions table
``<out>/trade_history/trades_history.json``  the shared history file (no user)
``<out>/trade_history/user_<id>/trades_history.json``  per-user history files

and, in ``<truth>/``, what really happened (the simulator's intent), which the
derivation rules R1-R7 (``shared/spec/rules.md``) recover from the raw files:

``orders_truth.csv``     order_id,user_id,base_symbol,trade_mode,entry_type,
                         cycle_number,is_executed
``positions_truth.csv``  user_id,base_symbol,trade_mode,cycle_number,
                         opening_order_id,reentry_count,total_bought_qty,status

Everything is streamed (order rows, truth rows, history trades), so the script
runs in bounded memory up to ``--orders 10000000``. Same seed, same bytes.

Example::

    python scripts/generate_sample_data.py --out data/raw --truth data/truth \\
        --seed 42 --orders 5000
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import heapq
import json
import math
import random
import shutil
import statistics
import sys
import tempfile
import time as wallclock
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional, TextIO

# --------------------------------------------------------------------------
# Constants
# --------------------------------------------------------------------------

END_DATE = dt.date(2025, 11, 14)  # last simulated trading day (a Friday)
EPOCH = dt.date(1970, 1, 1)
DAY = 86_400
HOUR = 3_600
OPEN_SECOND = 9 * HOUR + 15 * 60  # 09:15 India time
BARS = 13  # decision bars per day: 09:15, 09:45, ..., 15:15
BAR_SECONDS = 1_800
SIGNAL_SPREAD = 600  # signal moment within the bar (seconds)
LEVELS = (30, 20, 10)
LEVEL_BIT = {30: 1, 20: 2, 10: 4}
RULE3_WINDOW = 1_800  # R4.1 rule 3 (trade_match_minutes = 30)
RULE3_MARGIN = 60  # keep buys this close to the window edge out of rule 3
ATTACH_MAX = 44 * HOUR  # attached exits come well inside exit_attach_hours (48)
ORPHAN_MIN_GAP = 72 * HOUR  # orphan exits come well after the last close
BUY_HORIZON = 6 * HOUR  # rule-3 buy memory per symbol

# Simulated market (per 30-minute bar): an RSI mean-reverting to 50; the price
# is a daily random-walk level times a factor that falls with the RSI.
RSI_THETA = 0.04
RSI_SIGMA = 6.0
PRICE_KAPPA = 0.15
DAILY_VOL = 0.012
EMA9_ALPHA = 2.0 / 10.0
EMA200_ALPHA = 2.0 / 201.0
TARGET_OVER_EMA9 = 1.0  # exit target: the daily EMA9 at entry

# Calibrated: orders produced per (symbol, watching user) pair and trading day.
ORDERS_PER_PAIR_DAY = 0.65
USERS_PER_SYMBOL = 1.7  # on average (1 to 3)
MAX_DAYS = 750
MIN_DAYS = 30

# Proportions of the quirks.
P_FAILED = 0.03
P_CANCELLED = 0.02
P_PENDING = 0.005
P_PARTIAL = 0.03
P_PARTIAL_CANCELLED = 0.003
P_MANUAL = 0.004  # per symbol and bar
P_ORPHAN = 0.0004  # per symbol and bar (newer era)
P_PARTIAL_FILL_MANUAL = 0.05
P_MARKER_ONLY = 0.015
P_ATTACHED = 0.5
P_OVERSOLD = 0.015
P_CANCEL_SELL = 0.01
P_PARTIAL_EXIT = 0.05
P_DUP_LEVEL = 0.03
P_AMO = 0.5
P_CANCEL_OVERLAP = 0.5
P_DROP_IDS = 0.12
P_DROP_IDS_OWN_FILE = 0.2
P_UNATTRIBUTED = 0.01
P_CIRCUIT_DEFER = 0.005
P_SIGNAL_SOURCE = 0.1
FORCE_AFTER = 0.25  # force a missing quirk once this share of its era passed
JOIN_FROM = 0.1  # users after the first quarter join between these shares of the days
JOIN_UNTIL = 0.7

CORE_SYMBOLS: tuple[tuple[str, str, float], ...] = (
    ("RELIANCE", "EQ", 2450.0),
    ("TCS", "EQ", 3520.0),
    ("BAJAJ-AUTO", "EQ", 8900.0),
    ("M&M", "BE", 1650.0),
    ("INFY", "EQ", 1480.0),
    ("MCDOWELL-N", "EQ", 1120.0),
    ("HDFCBANK", "EQ", 1610.0),
    ("SBIN", "EQ", 610.0),
    ("L&TFH", "BE", 162.0),
    ("ITC", "EQ", 440.0),
    ("NAM-INDIA", "EQ", 480.0),
    ("ICICIBANK", "EQ", 1010.0),
    ("TATAMOTORS", "EQ", 720.0),
    ("WIPRO", "EQ", 455.0),
    ("AXISBANK", "EQ", 1090.0),
    ("KOTAKBANK", "EQ", 1780.0),
    ("MARUTI", "EQ", 11200.0),
    ("SUNPHARMA", "EQ", 1510.0),
    ("TITAN", "EQ", 3310.0),
    ("ASIANPAINT", "EQ", 2890.0),
    ("BAJFINANCE", "EQ", 6950.0),
    ("HINDUNILVR", "EQ", 2480.0),
    ("ADANIENT", "EQ", 2410.0),
    ("ONGC", "EQ", 262.0),
    ("NTPC", "EQ", 352.0),
    ("POWERGRID", "EQ", 301.0),
    ("COALINDIA", "EQ", 405.0),
    ("TECHM", "EQ", 1290.0),
    ("HCLTECH", "EQ", 1520.0),
    ("ULTRACEMCO", "EQ", 9800.0),
)
SYLLABLES = (
    "AR", "BO", "CA", "DI", "EL", "FO", "GA", "HI", "IN", "JU", "KO", "LA",
    "MI", "NO", "OR", "PA", "RU", "SA", "TI", "UV", "VE", "ZO",
)
SYNTHETIC_TAILS = ("", "", "", "", "", "", "-INDIA", "", "", "-N")
CAPITALS = (25_000, 40_000, 50_000, 60_000, 75_000, 100_000, 120_000, 150_000, 200_000)
FAIL_REASONS = (
    "Insufficient balance",
    "API error: 503 Service Unavailable",
    "RMS:Margin Exceeds,Required:{req}, Available:{avail}",
    "Order placement timed out, retry scheduled",
)
CANCEL_REASONS = (
    "Order not executed before market close",
    "Cancelled by user",
    'Limit price not reached ("LTP moved away")',
)

OLD_COLS_1 = (
    "id", "user_id", "symbol", "side", "order_type", "quantity", "price", "status",
    "avg_price", "placed_at", "closed_at", "orig_source", "order_id",
    "broker_order_id", "metadata", "failure_reason",
)
OLD_COLS_2 = (
    "id", "user_id", "symbol", "side", "order_type", "quantity", "price", "status",
    "avg_price", "placed_at", "filled_at", "closed_at", "orig_source", "order_id",
    "broker_order_id", "metadata", "failure_reason", "cancelled_reason",
    "retry_count", "first_failed_at",
)
NEW_COLS = (
    "id", "user_id", "symbol", "side", "order_type", "quantity", "price", "status",
    "avg_price", "placed_at", "updated_at", "filled_at", "closed_at", "orig_source",
    "order_id", "broker_order_id", "metadata", "reason", "execution_price",
    "execution_qty", "execution_time", "entry_type", "trade_mode", "retry_count",
)
PARQUET_TYPES = {
    "id": "BIGINT", "user_id": "BIGINT", "quantity": "BIGINT", "price": "DOUBLE",
    "avg_price": "DOUBLE", "execution_price": "DOUBLE", "execution_qty": "BIGINT",
    "retry_count": "BIGINT", "placed_at": "TIMESTAMP", "updated_at": "TIMESTAMP",
    "filled_at": "TIMESTAMP", "closed_at": "TIMESTAMP", "execution_time": "TIMESTAMP",
    "last_status_check": "TIMESTAMP",
}
OLD_POSITION_COLS = (
    "id", "user_id", "symbol", "quantity", "avg_price", "unrealized_pnl",
    "opened_at", "closed_at",
)
NEW_POSITION_COLS = OLD_POSITION_COLS + (
    "reentry_count", "reentries", "initial_entry_price", "last_reentry_price",
    "entry_rsi", "exit_price", "exit_reason", "exit_rsi", "realized_pnl",
    "realized_pnl_pct", "sell_order_id",
)
ORDERS_TRUTH_COLS = (
    "order_id", "user_id", "base_symbol", "trade_mode", "entry_type",
    "cycle_number", "is_executed",
)
POSITIONS_TRUTH_COLS = (
    "user_id", "base_symbol", "trade_mode", "cycle_number", "opening_order_id",
    "reentry_count", "total_bought_qty", "status",
)
# Cosmetic variations, picked with random bits (see Simulator._new_order).
SYMBOL_FORM = (0,) * 120 + (1,) * 4 + (2,) * 3 + (3,)  # of 128: broker, lower, .NS, lower .NS
CASE_PICK = (0,) * 29 + (1, 1, 2)  # of 32: as is, UPPER, Capitalised
CASE_WORDS = ("buy", "sell", "market", "limit", "failed", "retry_pending", "rejected",
              "cancelled", "pending", "closed", "ongoing")
CASE_FORMS = {w: (w, w.upper(), w.capitalize()) for w in CASE_WORDS}
BROKER_FORMS = (None,) * 3 + ("broker",) * 26 + ("BROKER", "BROKER", "Broker")
PAPER_FORMS = ("paper",) * 27 + ("PAPER",) * 3 + ("Paper",) * 2
CLIENT_TAGS = (None, "web", "mobile", "api-v2")
POSITIONS_KEEP_DAYS = 60
OLDER_TRADE_DROPS = ("ema200", "capital", "levels_taken", "reset_ready", "source")
OUT_ALLOWED = {"orders", "positions", "trade_history"}
TRUTH_ALLOWED = {"orders_truth.csv", "positions_truth.csv"}

QUIRK_ERA = {
    "manual_open": "any", "manual_add": "any", "failed_initial": "any",
    "failed_reentry": "any", "cancelled_initial": "any", "cancelled_reentry": "any",
    "pending_initial": "any", "pending_reentry": "any", "dup_level": "any",
    "partial_fill": "new", "orphan": "new", "marker_only": "new", "attached": "new",
    "oversold": "new", "partial_exit": "new", "cancel_sell": "new",
    "partial_cancelled": "new",
}


# --------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------


class GeneratorError(Exception):
    """A problem with the arguments or the output folders."""


def trading_days(end: dt.date, count: int) -> list[dt.date]:
    """The last `count` weekdays up to and including `end`, oldest first."""
    days: list[dt.date] = []
    day = end
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day -= dt.timedelta(days=1)
    days.reverse()
    return days


def day_start(day: dt.date) -> int:
    """Seconds of India wall-clock midnight of `day` on a naive epoch."""
    return (day - EPOCH).days * DAY


class Clock:
    """Formats naive India wall-clock seconds as ISO text, cached by date."""

    def __init__(self) -> None:
        self._dates: dict[int, str] = {}
        self._hms: dict[int, str] = {}

    def date_str(self, t: int) -> str:
        d = t // DAY
        text = self._dates.get(d)
        if text is None:
            text = (EPOCH + dt.timedelta(days=d)).isoformat()
            self._dates[d] = text
        return text

    def fmt(self, t: Optional[int], style: int) -> Optional[str]:
        """Style 0: ``YYYY-MM-DD HH:MM:SS``; 1: ``...THH:MM:SS``; 2: with +05:30."""
        if t is None:
            return None
        d, sod = divmod(t, DAY)
        ds = self._dates.get(d)
        if ds is None:
            ds = self.date_str(t)
        hms = self._hms.get(sod)
        if hms is None:
            h, rem = divmod(sod, 3600)
            m, s = divmod(rem, 60)
            hms = self._hms[sod] = f"{h:02d}:{m:02d}:{s:02d}"
        if style == 0:
            return ds + " " + hms
        if style == 1:
            return ds + "T" + hms
        return ds + "T" + hms + "+05:30"


def normal_table(bits: int) -> tuple[float, ...]:
    """Quantiles of N(0, 1): indexing with random bits is a fast normal draw."""
    dist = statistics.NormalDist()
    size = 1 << bits
    return tuple(dist.inv_cdf((i + 0.5) / size) for i in range(size))


NORMAL_BITS = 12
NORMAL = normal_table(NORMAL_BITS)


def _never(_: str) -> bool:
    return False


def base_to_broker(base: str, series: str) -> str:
    return f"{base}-{series}"


def _make_compact_encoder() -> Callable[[Any], str]:
    """``json.dumps(obj)`` through the C encoder directly (2x faster)."""
    c_make = getattr(json.encoder, "c_make_encoder", None)
    if c_make is None:  # pragma: no cover - CPython always has it
        return json.dumps
    default = json.JSONEncoder().default
    encode = c_make(None, default, json.encoder.encode_basestring_ascii,  # type: ignore
                    None, ": ", ", ", False, False, True)

    def dumps(obj: Any) -> str:
        return "".join(encode(obj, 0))

    return dumps


json_text = _make_compact_encoder()


# --------------------------------------------------------------------------
# Sizes and plan
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Sizes:
    """How big the simulation is."""

    users: int
    symbols: int
    days: int


def plan_sizes(orders: int, users: Optional[int], symbols: Optional[int],
               days: Optional[int]) -> Sizes:
    """Derive users, symbols and days from the target order count."""
    if symbols is None:
        need = orders / (ORDERS_PER_PAIR_DAY * USERS_PER_SYMBOL * MAX_DAYS)
        symbols = max(12, math.ceil(need))
    if users is None:
        users = max(6, round(symbols * USERS_PER_SYMBOL / 6))
    pairs = symbols * min(USERS_PER_SYMBOL, users)
    if days is None:
        days = round(orders / (ORDERS_PER_PAIR_DAY * pairs))
        days = max(MIN_DAYS, min(days, 20 * MAX_DAYS))
    if users < 1 or symbols < 1 or days < 8:
        raise GeneratorError("need at least 1 user, 1 symbol and 8 days")
    return Sizes(users=users, symbols=symbols, days=days)


@dataclass(frozen=True)
class ExportSpec:
    """One order export file: its name, last day, format and columns."""

    name: str
    cutoff: int  # index of the last trading day it covers
    fmt: str  # "csv" or "parquet"
    era: str  # "old" or "new"
    columns: tuple[str, ...]
    overlap_next: bool  # orders pending at the cutoff reappear in the next file

    colset: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "colset", frozenset(self.columns))


def plan_exports(days: list[dt.date], boundary: int) -> list[ExportSpec]:
    """Five exports: two older-era CSVs, newer-era CSV, Parquet and CSV."""
    n = len(days)
    newer = n - boundary
    cut = [
        max(0, boundary // 2 - 1),
        boundary - 1,
        boundary + max(1, newer // 3) - 1,
        boundary + max(2, 2 * newer // 3) - 1,
        n - 1,
    ]
    name = [f"orders_{days[c].isoformat()}" for c in cut]
    return [
        ExportSpec(name[0] + ".csv", cut[0], "csv", "old", OLD_COLS_1, True),
        ExportSpec(name[1] + ".csv", cut[1], "csv", "old", OLD_COLS_2, False),
        ExportSpec(name[2] + ".csv", cut[2], "csv", "new", NEW_COLS + ("client_tag",), True),
        ExportSpec(name[3] + ".parquet", cut[3], "parquet", "new",
                   NEW_COLS + ("base_symbol", "last_status_check"), True),
        ExportSpec(name[4] + ".csv", cut[4], "csv", "new", NEW_COLS, False),
    ]


# --------------------------------------------------------------------------
# Output folders and writers
# --------------------------------------------------------------------------


def prepare_dir(path: Path, allowed: set[str], what: str) -> None:
    """Wipe and recreate `path`, refusing anything that is not our output."""
    if path.exists() or path.is_symlink():
        if not path.is_dir() or path.is_symlink():
            raise GeneratorError(f"{what} {path} exists and is not a directory")
        unknown = sorted(p.name for p in path.iterdir() if p.name not in allowed)
        if unknown:
            raise GeneratorError(
                f"{what} {path} holds {', '.join(unknown[:5])}: refusing to wipe a folder "
                f"that is not a previous output (allowed: {', '.join(sorted(allowed))})")
        shutil.rmtree(path)
    path.mkdir(parents=True)


def open_csv(path: Path, columns: tuple[str, ...]) -> tuple[TextIO, Any]:
    handle = open(path, "w", newline="", encoding="utf-8", buffering=1 << 20)
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(columns)
    return handle, writer


class OrderExports:
    """Streams order rows into the export files, one at a time in order."""

    def __init__(self, folder: Path, tmp: Path, plan: list[ExportSpec]) -> None:
        self.folder = folder
        self.tmp = tmp
        self.plan = plan
        self.index = -1
        self.handle: Optional[TextIO] = None
        self.writer: Any = None
        self.carry: list[dict[str, Any]] = []
        self.rows_per_file: dict[str, int] = {}
        self._open_next()

    @property
    def spec(self) -> ExportSpec:
        return self.plan[self.index]

    @property
    def next_spec(self) -> ExportSpec:
        return self.plan[self.index + 1]

    def _path(self, spec: ExportSpec) -> Path:
        if spec.fmt == "parquet":
            return self.tmp / (spec.name + ".csv")
        return self.folder / spec.name

    def _open_next(self) -> None:
        self.index += 1
        spec = self.spec
        self.handle, self.writer = open_csv(self._path(spec), spec.columns)
        self.rows_per_file[spec.name] = 0
        carry, self.carry = self.carry, []
        for row in carry:
            self.write(row)

    def advance_to(self, day_index: int) -> None:
        while day_index > self.spec.cutoff:
            self._close_current()
            self._open_next()

    def write(self, row: dict[str, Any]) -> None:
        self.writer.writerow(map(row.get, self.spec.columns))
        self.rows_per_file[self.spec.name] += 1

    def write_next(self, row: dict[str, Any]) -> None:
        self.carry.append(row)

    def _close_current(self) -> None:
        assert self.handle is not None
        self.handle.close()
        spec = self.spec
        if spec.fmt == "parquet":
            csv_to_parquet(self._path(spec), self.folder / spec.name, spec.columns)

    def close(self) -> None:
        self._close_current()
        if self.carry:
            raise RuntimeError("orders left over after the last export")


def csv_to_parquet(src: Path, dst: Path, columns: tuple[str, ...]) -> None:
    """Convert a temp CSV to Parquet with DuckDB (typed, deterministic)."""
    import duckdb

    types = ", ".join(f"'{c}': '{PARQUET_TYPES.get(c, 'VARCHAR')}'" for c in columns)
    con = duckdb.connect()
    try:
        con.execute("SET threads TO 1")
        con.execute(
            f"COPY (SELECT * FROM read_csv('{src.as_posix()}', header=true, "
            f"auto_detect=false, columns={{{types}}}, quote='\"', escape='\"', "
            f"timestampformat='%Y-%m-%d %H:%M:%S')) "
            f"TO '{dst.as_posix()}' (FORMAT parquet)")
    finally:
        con.close()
    src.unlink()


_ENC_STR = json.encoder.encode_basestring_ascii  # type: ignore[attr-defined]


def _json_bool(value: bool) -> str:
    return "true" if value else "false"


def _json_null(_: None) -> str:
    return "null"


_JSON_SCALAR: dict[type, Callable[[Any], str]] = {
    str: _ENC_STR, int: int.__repr__, float: float.__repr__, bool: _json_bool,
    type(None): _json_null,
}


def json_indent2(obj: Any, level: int = 0) -> str:
    """Exactly ``json.dumps(obj, indent=2)`` for str keys, finite floats and
    plain scalars, but several times faster (json's indenting encoder is pure
    Python)."""
    scalar = _JSON_SCALAR.get(type(obj))
    if scalar is not None:
        return scalar(obj)
    if not obj:
        if isinstance(obj, dict):
            return "{}"
        if isinstance(obj, list):
            return "[]"
        raise TypeError(f"cannot encode {obj!r}")
    pad = "\n" + "  " * (level + 1)
    sep = "," + pad
    parts = []
    if isinstance(obj, dict):
        for key, value in obj.items():
            enc = _JSON_SCALAR.get(type(value))
            parts.append(_ENC_STR(key) + ": " + (enc(value) if enc is not None
                                                  else json_indent2(value, level + 1)))
        return "{" + pad + sep.join(parts) + "\n" + "  " * level + "}"
    if isinstance(obj, list):
        for value in obj:
            enc = _JSON_SCALAR.get(type(value))
            parts.append(enc(value) if enc is not None else json_indent2(value, level + 1))
        return "[" + pad + sep.join(parts) + "\n" + "  " * level + "]"
    raise TypeError(f"cannot encode {obj!r}")


class HistoryFile:
    """A trades_history.json written streaming, byte-identical to what
    ``json.dump(obj, f, indent=2)`` writes for ``{"trades": [...],
    "failed_orders": [...], "last_run": ...}``.

    Trades go straight into the final file; failed orders (interleaved with
    them in time) wait in a temp file and are appended at the end.
    """

    def __init__(self, final: Path, tmp: Path, key: str) -> None:
        self.final = final
        final.parent.mkdir(parents=True, exist_ok=True)
        self.failed_path = tmp / f"hist_{key}_failed.part"
        self.out = open(final, "w", encoding="utf-8", buffering=1 << 20)
        self.out.write('{\n  "trades": ')
        self.failed = open(self.failed_path, "w", encoding="utf-8", buffering=1 << 20)
        self.n_trades = 0
        self.n_failed = 0

    @staticmethod
    def _block(obj: dict[str, Any]) -> str:
        return "    " + json_indent2(obj, 2)

    def add_trade(self, obj: dict[str, Any]) -> None:
        self.out.write((",\n" if self.n_trades else "[\n") + self._block(obj))
        self.n_trades += 1

    def add_failed(self, obj: dict[str, Any]) -> None:
        self.failed.write((",\n" if self.n_failed else "") + self._block(obj))
        self.n_failed += 1

    def finish(self, last_run: str) -> None:
        out = self.out
        out.write("\n  ]" if self.n_trades else "[]")
        out.write(',\n  "failed_orders": ')
        self.failed.close()
        if self.n_failed:
            out.write("[\n")
            with open(self.failed_path, "r", encoding="utf-8") as src:
                shutil.copyfileobj(src, out, 1 << 20)
            out.write("\n  ]")
        else:
            out.write("[]")
        out.write(',\n  "last_run": ' + json.dumps(last_run) + "\n}")
        out.close()
        self.failed_path.unlink()


def write_history_document(path: Path, obj: dict[str, Any]) -> None:
    """Reference writer used by the tests: what the app itself does."""
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2)


# --------------------------------------------------------------------------
# Simulation state
# --------------------------------------------------------------------------


class User:
    __slots__ = ("uid", "capital", "paper", "own_file", "join_di")

    def __init__(self, uid: int, capital: int, paper: bool, own_file: bool,
                 join_di: int) -> None:
        self.uid = uid
        self.capital = capital
        self.paper = paper
        self.own_file = own_file
        self.join_di = join_di


class Symbol:
    """One stock: its simulated RSI/price path and the books that trade it.

    Per 30-minute bar the RSI(10) follows a mean-reverting walk around 50; the
    price is a daily random-walk level times a factor that falls with the RSI.
    EMA9/EMA200 are daily (updated at the close), as the app computes them.
    """

    __slots__ = ("base", "series", "broker", "ticker", "rsi", "level", "ema9", "ema200",
                 "b_rsi", "close", "last_above30", "books", "active_books", "n_open",
                 "buys", "open_trades", "rare_bar", "variants", "min_target")

    def __init__(self, base: str, series: str, price: float, rsi: float) -> None:
        self.base = base
        self.series = series
        self.broker = base_to_broker(base, series)
        self.ticker = base + ".NS"
        self.variants = (self.broker, self.broker.lower(), self.ticker, self.ticker.lower())
        self.rsi = rsi
        self.level = price
        self.ema9 = price
        self.ema200 = price
        self.b_rsi = [0.0] * BARS
        self.close = price
        self.last_above30 = -1
        self.books: list[Book] = []
        self.active_books: list[Book] = []
        self.n_open = 0
        self.buys: deque[tuple[int, int, int]] = deque()
        self.open_trades: dict[str, list[TradeRec]] = {}
        self.rare_bar = -1
        self.min_target = math.inf  # lowest exit target of the open books

    def simulate_day(self, rng: random.Random) -> float:
        """Advance the path by one day of bars; return the day's lowest RSI."""
        bits = rng.getrandbits
        normal = NORMAL
        self.level *= math.exp(DAILY_VOL * normal[bits(NORMAL_BITS)])
        rsi = self.rsi
        low = 100.0
        b_rsi = self.b_rsi
        for b in range(BARS):
            rsi = rsi + RSI_THETA * (50.0 - rsi) + RSI_SIGMA * normal[bits(NORMAL_BITS)]
            if rsi < 2.0:
                rsi = 2.0
            elif rsi > 98.0:
                rsi = 98.0
            if rsi < low:
                low = rsi
            b_rsi[b] = rsi
        self.rsi = rsi
        self.close = self.price(BARS - 1)
        return low

    def end_day(self) -> None:
        """Daily EMAs move with the close (decisions use the previous close's)."""
        self.ema9 += EMA9_ALPHA * (self.close - self.ema9)
        self.ema200 += EMA200_ALPHA * (self.close - self.ema200)

    def price(self, b: int) -> float:
        return round(self.level * math.exp(PRICE_KAPPA * (self.b_rsi[b] - 50.0) / 100.0), 2)


class Cycle:
    """One position cycle of a book (the truth)."""

    __slots__ = ("number", "opening_id", "opened_at", "initial_price", "initial_qty",
                 "reentry_count", "bought", "avg", "items", "last_reentry_price",
                 "entry_rsi", "trade", "partial_done", "attempts")

    def __init__(self, number: int, opening_id: int, opened_at: int, price: float,
                 qty: int, rsi: float) -> None:
        self.number = number
        self.opening_id = opening_id
        self.opened_at = opened_at
        self.initial_price = price
        self.initial_qty = qty
        self.reentry_count = 0
        self.bought = 0
        self.avg = 0.0
        self.items: list[dict[str, Any]] = []
        self.last_reentry_price: Optional[float] = None
        self.entry_rsi = rsi
        self.trade: Optional[TradeRec] = None
        self.partial_done = False
        self.attempts = 0


class Book:
    """(user, base symbol, trade mode) and its running state."""

    __slots__ = ("user", "sym", "mode", "held", "cycle_no", "cycle", "busy_until",
                 "levels", "levels_g", "exit_g", "target", "last_close_t",
                 "last_close_src", "last_close_delta", "last_opened_at", "last_avg",
                 "last_qty", "app_cycle")

    def __init__(self, user: User, sym: Symbol, mode: str) -> None:
        self.user = user
        self.sym = sym
        self.mode = mode
        self.held = 0
        self.cycle_no = 0
        self.cycle: Optional[Cycle] = None
        self.busy_until = -1
        self.levels = 0
        self.levels_g = -1
        self.exit_g = -2
        self.target = 0.0
        self.last_close_t: Optional[int] = None
        self.last_close_src: Optional[str] = None
        self.last_close_delta = 0
        self.last_opened_at: Optional[int] = None
        self.last_avg = 0.0
        self.last_qty = 0
        self.app_cycle = 0


class TradeRec:
    """A trades_history.json trade and what the simulator knows about it."""

    __slots__ = ("data", "user", "file_key", "entry_t", "rule3", "init_qty", "book")

    def __init__(self, data: dict[str, Any], user: User, file_key: str, entry_t: int,
                 init_qty: int, book: Book) -> None:
        self.data = data
        self.user = user
        self.file_key = file_key
        self.entry_t = entry_t
        self.rule3: Optional[str] = None  # "correct" | "none" | "unsafe"
        self.init_qty = init_qty
        self.book = book


class Order:
    """One app order row (its final version, plus an optional earlier one)."""

    __slots__ = ("oid", "book", "side", "kind", "qty", "order_type", "limit_price",
                 "t_place", "t_fill", "t_final", "filled_qty", "fill_price", "outcome",
                 "order_id", "broker_order_id", "metadata", "reason", "recorded_type",
                 "orig_source", "sym_text", "style", "day_close", "retry_count",
                 "status_text", "pending_text", "side_text", "type_text", "mode_text",
                 "avg_price_shown", "client_tag", "overlap", "t_pending_update")


# --------------------------------------------------------------------------
# The simulator
# --------------------------------------------------------------------------


@dataclass
class Config:
    out: Path
    truth: Path
    seed: int
    orders: int
    sizes: Sizes
    history_trades: Optional[int]
    quiet: bool


class Simulator:
    """Runs the app day by day and streams every output file."""

    def __init__(self, cfg: Config, tmp: Path) -> None:
        self.cfg = cfg
        self.rng = random.Random(cfg.seed)
        self.clock = Clock()
        self.tmp = tmp
        sizes = cfg.sizes
        self.days = trading_days(END_DATE, sizes.days)
        self.day_t = [day_start(d) for d in self.days]
        self.boundary = max(1, len(self.days) // 2)
        self.boundary_t = self.day_t[self.boundary]
        # the newer positions export holds the cycles closed in its last days
        # and the open ones (older rows were archived by the app)
        self.positions_from = max(self.boundary, len(self.days) - POSITIONS_KEEP_DAYS)
        self.plan = plan_exports(self.days, self.boundary)
        self.overlap_days = {s.cutoff for s in self.plan[:-1] if s.overlap_next}
        self.exports = OrderExports(cfg.out / "orders", tmp, self.plan)
        self._open_truth()
        self._open_positions()
        self.history: dict[str, HistoryFile] = {}
        self.next_oid = 1001
        self.next_broker = 1
        self.next_position_id = 1
        self.quirks: dict[str, int] = {k: 0 for k in QUIRK_ERA}
        self.stats: dict[str, int] = {"orders": 0, "rows": 0, "trades": 0, "cycles": 0,
                                      "wrong_recorded_type": 0, "no_id_trades": 0,
                                      "unattributed_trades": 0, "old_pending": 0}
        self.rule3_heap: list[tuple[int, int, TradeRec]] = []
        self.heap_seq = 0
        self.scheduled: dict[tuple[int, int], list[tuple[Book, int, int]]] = {}
        self.di = 0
        self.b = 0
        self.g = 0
        self.new_era = False
        self.era_progress = 0.0
        self.amo_done: set[int] = set()
        self.need_force = False
        self.hist_ratio: Optional[float] = None  # newer-era trades per order
        self.hist_base = (0, 0)
        self._build_world()

    # ----- setup ---------------------------------------------------------

    def _open_truth(self) -> None:
        truth = self.cfg.truth
        self.truth_orders_f, self.truth_orders = open_csv(
            truth / "orders_truth.csv", ORDERS_TRUTH_COLS)
        self.truth_pos_f, self.truth_pos = open_csv(
            truth / "positions_truth.csv", POSITIONS_TRUTH_COLS)

    def _open_positions(self) -> None:
        folder = self.cfg.out / "positions"
        folder.mkdir(parents=True)
        self.old_positions_name = f"positions_{self.days[self.boundary - 1].isoformat()}.csv"
        self.new_positions_name = f"positions_{self.days[-1].isoformat()}.csv"
        self.pos_new_f, self.pos_new = open_csv(folder / self.new_positions_name,
                                                NEW_POSITION_COLS)

    def _symbol_list(self, count: int) -> list[tuple[str, str, float]]:
        rng = self.rng
        out = list(CORE_SYMBOLS[:count])
        taken = {s[0] for s in out}
        n = len(SYLLABLES)
        i = 0
        while len(out) < count:
            a, rest = divmod(i, n * n)
            bsyl, csyl = divmod(rest, n)
            name = SYLLABLES[a % n] + SYLLABLES[bsyl] + SYLLABLES[csyl]
            if a >= n:
                name += str(a // n)
            name += SYNTHETIC_TAILS[i % len(SYNTHETIC_TAILS)]
            i += 1
            if name in taken:
                continue
            taken.add(name)
            series = "BE" if i % 9 == 0 else "EQ"
            out.append((name, series, round(rng.uniform(60.0, 4000.0), 2)))
        return out

    def _build_world(self) -> None:
        rng = self.rng
        sizes = self.cfg.sizes
        n_users = sizes.users
        uids = list(range(1, n_users + 1))
        n_own = 1 if n_users < 4 else 2
        own = set(uids[1:1 + n_own]) if n_users > 1 else set()
        n_paper = max(1, n_users // 3) if n_users > 1 else 0
        paper = set(uids[-n_paper:]) if n_paper else set()
        self.users = [User(u, rng.choice(CAPITALS) + 1_000 * self._rint(0, 9),
                           u in paper, u in own, self._join_day(i, n_users))
                      for i, u in enumerate(uids)]
        self.symbols: list[Symbol] = []
        self._watch_pos = 0
        for i, (base, series, price) in enumerate(self._symbol_list(sizes.symbols)):
            sym = Symbol(base, series, price, rng.uniform(35.0, 65.0))
            watchers = self._watchers()
            for user in watchers:
                sym.books.append(Book(user, sym, "broker"))
            for user in watchers:
                if user.paper:
                    sym.books.append(Book(user, sym, "paper"))
            self.symbols.append(sym)
        self.active_symbols: list[Symbol] = []
        self.change_days = {u.join_di for u in self.users} | {self.boundary}
        self.history["shared"] = HistoryFile(
            self.cfg.out / "trade_history" / "trades_history.json", self.tmp, "shared")
        for user in self.users:
            if user.own_file:
                self.history[str(user.uid)] = HistoryFile(
                    self.cfg.out / "trade_history" / f"user_{user.uid}" / "trades_history.json",
                    self.tmp, str(user.uid))

    def _join_day(self, i: int, n_users: int) -> int:
        """The app grows: a quarter of the users from day one, the rest join later."""
        early = max(2, n_users // 4)
        if i < early:
            return 0
        share = (i - early) / max(1, n_users - early)
        return int(len(self.days) * (JOIN_FROM + (JOIN_UNTIL - JOIN_FROM) * share))

    def _refresh_active(self, di: int) -> None:
        """Books that trade from day `di` on (paper only in the newer era)."""
        new_era = di >= self.boundary
        self.active_symbols = []
        for sym in self.symbols:
            sym.active_books = [bk for bk in sym.books if bk.user.join_di <= di
                                and (bk.mode == "broker" or new_era)]
            if sym.active_books:
                self.active_symbols.append(sym)

    def _watchers(self) -> list[User]:
        """1-3 users watch a symbol (1.7 on average): a rotating window, sometimes
        with a random user instead of the last one."""
        n = len(self.users)
        roll = self.rng.random()
        k = min(n, 1 if roll < 0.45 else 2 if roll < 0.85 else 3)
        start = self._watch_pos
        self._watch_pos = (start + k) % n
        chosen = [self.users[(start + j) % n] for j in range(k)]
        if k >= 2 and self.rng.random() < 0.3:
            extra = self.users[self._rint(n)]
            if extra not in chosen:
                chosen[-1] = extra
        return chosen

    # ----- helpers -------------------------------------------------------

    def _force(self, quirk: str) -> bool:
        """True once, when a quirk has not happened by FORCE_AFTER of its era."""
        if self.quirks[quirk]:
            return False
        era = QUIRK_ERA[quirk]
        if era == "new" and not self.new_era:
            return False
        return self.era_progress > FORCE_AFTER

    def _rint(self, a: int, b: Optional[int] = None) -> int:
        """A uniform integer in [0, a) or [a, b): faster than Random.randrange."""
        if b is None:
            return int(self.rng.random() * a)
        return a + int(self.rng.random() * (b - a))

    def _note(self, quirk: str) -> None:
        self.quirks[quirk] += 1

    def _era_style(self, t: int) -> int:
        """History-file time style: naive before the era boundary, +05:30 after."""
        return 1 if t < self.boundary_t else 2

    def _hist_time(self, t: int) -> str:
        return self.clock.fmt(t, self._era_style(t))  # type: ignore[return-value]

    def _history_for(self, user: User) -> HistoryFile:
        return self.history[str(user.uid)] if user.own_file else self.history["shared"]

    def _file_key(self, user: User) -> str:
        return str(user.uid) if user.own_file else "shared"

    def _next_day_open(self) -> Optional[int]:
        if self.di + 1 >= len(self.day_t):
            return None
        return self.day_t[self.di + 1] + OPEN_SECOND

    def _broker_ids(self, t: int, mode: str) -> tuple[str, str]:
        n = self.next_broker
        self.next_broker += 1
        if mode == "paper":
            ident = f"PT{n:09d}"
            return ident, ident
        ident = self.clock.date_str(t).replace("-", "")[2:] + f"{n:08d}"
        return ident, ident

    def _case(self, word: str) -> str:
        """Mostly lower case, sometimes UPPER or Capitalised (any case is valid)."""
        return CASE_FORMS[word][CASE_PICK[self.rng.getrandbits(5)]]

    # ----- main loop -----------------------------------------------------

    def run(self) -> None:
        progress = make_progress(len(self.days), self.cfg.quiet)
        try:
            for di in range(len(self.days)):
                self._run_day(di)
                progress(1)
        finally:
            progress(None)
        self._finish()

    def _run_day(self, di: int) -> None:
        self.di = di
        if di == self.boundary:
            self._write_old_positions()
        self.new_era = di >= self.boundary
        era_start, era_len = ((self.boundary, len(self.days) - self.boundary)
                              if self.new_era else (0, self.boundary))
        self.era_progress = (di - era_start) / max(1, era_len)
        self.exports.advance_to(di)
        if di in self.change_days:
            self._refresh_active(di)
        self.need_force = any(self._force(q) for q in self.quirks)
        rng = self.rng
        rand = rng.random
        p_rare = P_MANUAL + (P_ORPHAN if self.new_era else 0.0)
        p_rare_day = p_rare * BARS
        force_rare = self.need_force and any(
            self._force(q) for q in ("manual_open", "manual_add", "orphan"))
        last_g = di * BARS + BARS - 1
        todays: list[Symbol] = []
        for sym in self.active_symbols:
            low = sym.simulate_day(rng)
            sym.rare_bar = (self._rint(BARS) if rand() < p_rare_day or force_rare else -1)
            if sym.n_open or low < 30.0 or sym.rare_bar >= 0:
                todays.append(sym)
            else:
                sym.last_above30 = last_g  # a quiet day: RSI stayed >= 30
        t0 = self.day_t[di] + OPEN_SECOND
        gate = 40.0 if self.new_era else 50.0  # partial exits need RSI > 40
        for b in range(BARS):
            self.b = b
            self.g = g = di * BARS + b
            bar_start = t0 + b * BAR_SECONDS
            self._run_scheduled(di, b)
            self._evaluate_rule3(bar_start)
            for sym in todays:
                r = sym.b_rsi[b]
                if r < 30.0:
                    self._decide(sym, b, g, bar_start)
                else:
                    sym.last_above30 = g
                    # open books act only on an exit signal or a partial exit
                    if sym.n_open and (r > gate or sym.price(b) >= sym.min_target):
                        self._decide(sym, b, g, bar_start)
                if sym.rare_bar == b:
                    self._rare_event(sym, bar_start, rand() * p_rare)
            if di in self.overlap_days and b == BARS - 1 and di not in self.amo_done:
                self._force_amo(bar_start)
        for sym in self.active_symbols:
            sym.end_day()
        self._evaluate_rule3(self.day_t[di] + DAY - 1)

    def _run_scheduled(self, di: int, b: int) -> None:
        for book, t_sell, qty in self.scheduled.pop((di, b), ()):
            self._sell(book, t_sell, qty, "attached")

    def _decide(self, sym: Symbol, b: int, g: int, bar_start: int) -> None:
        rng = self.rng
        rand = rng.random
        r = sym.b_rsi[b]
        p = sym.price(b) if sym.n_open else 0.0
        sig = bar_start + int(rand() * SIGNAL_SPREAD)
        new_era = self.new_era
        for book in sym.active_books:
            if book.busy_until >= bar_start:
                continue
            if book.held > 0:
                if r > 50.0 or p >= book.target:
                    self._exit(book, sig + int(rand() * 30), r, p)
                elif r < 30.0:
                    if sym.last_above30 > book.levels_g:
                        book.levels = 0  # RSI was back above 30: levels reset
                        book.levels_g = g
                        trade = book.cycle.trade if book.cycle is not None else None
                        if trade is not None and "reset_ready" in trade.data:
                            trade.data["reset_ready"] = True
                    for level in LEVELS:
                        if r < level and not book.levels & LEVEL_BIT[level]:
                            self._buy(book, "reentry", sig + int(rand() * 30), level)
                            break
                elif (new_era and r > 40.0 and book.cycle is not None
                      and not book.cycle.partial_done and book.held >= 2
                      and (rand() < P_PARTIAL_EXIT or self._force("partial_exit"))):
                    book.cycle.partial_done = True
                    self._sell(book, sig + int(rand() * 30), book.held // 2, "partial")
            elif r < 30.0 and sym.last_above30 > book.exit_g:
                self._buy(book, "initial", sig + int(rand() * 30), 30)

    def _rare_event(self, sym: Symbol, bar_start: int, roll: float) -> None:
        """Manual buys and orphan exits: rare, not driven by the RSI."""
        rng = self.rng
        if roll < P_MANUAL or self._force("manual_open") or self._force("manual_add"):
            cands = [bk for bk in sym.active_books
                     if bk.mode == "broker" and bk.busy_until < bar_start]
            if not cands:
                return
            if not self.quirks["manual_open"] and any(bk.held == 0 for bk in cands):
                cands = [bk for bk in cands if bk.held == 0]
            elif not self.quirks["manual_add"] and any(bk.held > 0 for bk in cands):
                cands = [bk for bk in cands if bk.held > 0]
            book = cands[self._rint(len(cands))]
            self._buy(book, "manual", bar_start + self._rint(1200), 0)
        elif self.new_era and (roll < P_MANUAL + P_ORPHAN or self._force("orphan")):
            t = bar_start + self._rint(1200)
            cands = [bk for bk in sym.active_books
                     if bk.held == 0 and bk.busy_until < bar_start
                     and (bk.last_close_t is None or t - bk.last_close_t >= ORPHAN_MIN_GAP)]
            if cands:
                book = cands[self._rint(len(cands))]
                self._sell(book, t, 1 + self._rint(40), "orphan")

    def _force_amo(self, bar_start: int) -> None:
        """Make sure each overlapping export boundary has an AMO buy."""
        for sym in self.active_symbols:
            for book in sym.active_books:
                if book.mode == "broker" and book.busy_until < bar_start:
                    self._buy(book, "manual", bar_start + self._rint(600), 0,
                              force_amo=True)
                    return

    # ----- buys ----------------------------------------------------------

    def _buy_outcome(self, book: Book, kind: str) -> str:
        rng = self.rng
        if kind == "manual":
            if self.new_era and rng.random() < P_PARTIAL_FILL_MANUAL:
                return "partial"
            return "filled"
        if book.mode == "paper":
            return "filled"
        r = rng.random()
        force = self._force if self.need_force else _never
        if r < P_FAILED or force("failed_" + kind):
            return "failed"
        r -= P_FAILED
        if r < P_CANCELLED or force("cancelled_" + kind):
            return "cancelled"
        r -= P_CANCELLED
        if r < P_PENDING or force("pending_" + kind):
            return "pending"
        r -= P_PENDING
        if self.new_era:
            if r < P_PARTIAL or force("partial_fill"):
                return "partial"
            r -= P_PARTIAL
            if r < P_PARTIAL_CANCELLED or force("partial_cancelled"):
                return "partial_cancelled"
        return "filled"

    def _buy(self, book: Book, kind: str, t: int, level: int,
             force_amo: bool = False) -> None:
        rng = self.rng
        sym = book.sym
        b = self.b
        r, p = round(sym.b_rsi[b], 2), sym.price(b)
        cap = book.user.capital
        if kind == "reentry":
            qty = max(1, int(cap * (0.5, 0.75, 1.0)[self._rint(3)] / p))
        elif kind == "manual":
            qty = max(1, int(cap * 0.3 / p)) + self._rint(3)
        else:
            qty = max(1, int(cap / p))
        outcome = self._buy_outcome(book, kind)
        if outcome in ("partial", "partial_cancelled") and qty < 2:
            outcome = "filled"
        o = self._new_order(book, "buy", kind, qty, t)
        o.outcome = outcome
        o.day_close = sym.close
        executed = outcome in ("filled", "partial", "partial_cancelled")
        amo = (executed and book.mode == "broker" and b == BARS - 1
               and self.di in self.overlap_days and (force_amo or rng.random() < P_AMO))
        if executed:
            o.filled_qty = qty if outcome == "filled" else 1 + self._rint(qty - 1)
            o.fill_price = round(p * (1.0 + rng.uniform(-0.004, 0.004)), 2)
            next_open = self._next_day_open()
            if amo and next_open is not None:
                o.t_fill = next_open + 1 + self._rint(300)
                o.overlap = True
                self.amo_done.add(self.di)
            else:
                o.t_fill = t + 2 + self._rint(90)
            o.t_final = o.t_fill + self._rint(1, 30)
            if outcome == "partial":
                self._note("partial_fill")
            elif outcome == "partial_cancelled":
                self._note("partial_cancelled")
        else:
            o.t_fill = None
            o.filled_qty = 0
            o.fill_price = None
            o.t_final = t + (self._rint(60, 3600) if outcome == "cancelled" else
                             self._rint(1, 20))
            if (outcome == "cancelled" and self.di in self.overlap_days
                    and rng.random() < P_CANCEL_OVERLAP):
                next_open = self._next_day_open()
                if next_open is not None:
                    o.t_final = next_open + 60 + self._rint(600)
                    o.overlap = True
            if kind != "manual":
                self._note(f"{outcome}_{kind}")
        self._decorate_buy(o, book, kind, level, r, p)
        fill_t = self._emit(o)
        # truth and state
        if executed:
            assert fill_t is not None
            opens = book.held == 0
            if opens:
                self._open_cycle(book, o, fill_t, r)
            cyc = book.cycle
            assert cyc is not None
            if opens:
                truth_type = "manual" if kind == "manual" else "initial"
            else:
                truth_type = "manual" if kind == "manual" else "reentry"
                if kind == "manual":
                    self._note("manual_add")
            if opens and kind == "manual":
                self._note("manual_open")
            if truth_type == "reentry":
                cyc.reentry_count += 1
                cyc.last_reentry_price = o.fill_price
            q0 = book.held
            cyc.avg = ((q0 * cyc.avg + o.filled_qty * o.fill_price) / (q0 + o.filled_qty))
            cyc.bought += o.filled_qty
            book.held += o.filled_qty
            book.busy_until = max(book.busy_until, o.t_fill)
            sym.buys.append((fill_t, book.user.uid, o.filled_qty))
            while sym.buys and sym.buys[0][0] < t - BUY_HORIZON:
                sym.buys.popleft()
            cycle_number: Optional[int] = cyc.number
        else:
            truth_type = "reentry" if book.held > 0 else "initial"
            cycle_number = book.cycle.number if book.cycle is not None else None
            book.busy_until = max(book.busy_until, t)
        if kind == "reentry":
            self._after_reentry(book, o, level, r, p, executed)
        self._write_truth(o, truth_type, cycle_number, executed)
        if book.mode == "broker" and outcome == "failed":
            self._history_for(book.user).add_failed({
                "symbol": sym.base, "placed_symbol": sym.broker, "qty": qty,
                "reason": o.reason, "failed_at": self._hist_time(t),
                "retry_count": o.retry_count or 0, "entry_type": truth_type,
            })

    def _decorate_buy(self, o: Order, book: Book, kind: str, level: int,
                      r: float, p: float) -> None:
        """Metadata, statuses, reasons and recorded entry type of a buy."""
        rng = self.rng
        sym = book.sym
        new = self.new_era
        cyc = book.cycle
        if kind == "manual":
            o.orig_source = "manual"
            meta: Optional[dict[str, Any]] = (
                {"source": "manual", "placed_symbol": sym.broker}
                if rng.random() < 0.7 else None)
        elif kind == "initial":
            meta = {"placed_symbol": sym.broker, "ticker": sym.ticker, "rsi10": r,
                    "ema9": round(sym.ema9, 2),
                    "ema200": round(sym.ema200, 2),
                    "capital": book.user.capital, "rsi_entry_level": level,
                    "entry_type": "initial"}
            if rng.random() < 0.1:
                meta.pop(("ema200", "capital", "ticker")[self._rint(3)])
        else:
            n_re = (cyc.reentry_count + 1) if cyc is not None else 1
            if new:
                meta = {"entry_type": "reentry", "reentry_level": level, "rsi10": r,
                        "entry_rsi": cyc.entry_rsi if cyc else r,
                        "cycle": book.app_cycle}
                if rng.random() < 0.1:
                    del meta["reentry_level"]
            else:
                meta = {"rsi_level": level, "rsi": r, "price": p, "reentry_index": n_re}
                if rng.random() < 0.05:
                    del meta["rsi_level"]
        o.metadata = meta
        if kind != "manual":
            roll = rng.random()
            o.orig_source = ("circuit_defer" if roll < P_CIRCUIT_DEFER else
                             "signal" if roll < P_CIRCUIT_DEFER + P_SIGNAL_SOURCE else None)
        o.order_type = "market" if (kind == "manual" or rng.random() < 0.8) else "limit"
        o.type_text = self._case(o.order_type)
        o.limit_price = round(p * 1.002, 2) if o.order_type == "limit" else None
        outcome = o.outcome
        if outcome == "failed":
            o.order_id = o.broker_order_id = None
            o.reason = FAIL_REASONS[self._rint(len(FAIL_REASONS))].format(
                req=round(o.qty * p, 2), avail=round(o.qty * p * 0.4, 2))
            o.retry_count = self._rint(0, 3)
            if new:
                o.status_text = self._case("failed")
            else:
                o.status_text = self._case(("failed", "retry_pending", "rejected")[self._rint(3)])
        else:
            oid, bid = self._broker_ids(o.t_place, book.mode)
            o.order_id = oid
            o.broker_order_id = bid if (new or rng.random() < 0.5) else None
            o.retry_count = None
            if outcome in ("cancelled", "partial_cancelled"):
                o.status_text = self._case("cancelled")
                o.reason = CANCEL_REASONS[self._rint(len(CANCEL_REASONS))]
            elif outcome == "pending":
                o.status_text = (self._case("pending") if new else
                                 self._old_pending_status())
                o.reason = None
            else:
                o.reason = None
                if new:
                    o.status_text = self._case("closed" if rng.random() < 0.85 else "ongoing")
                else:
                    o.status_text = self._case("ongoing" if rng.random() < 0.85 else "closed")
        o.pending_text = ("pending" if new else
                          "amo" if rng.random() < 0.7 else "pending_execution")
        o.recorded_type = self._recorded_type(book, kind) if new else None

    def _old_pending_status(self) -> str:
        """Older never-filled orders alternate between the two legacy statuses."""
        self.stats["old_pending"] += 1
        return ("amo", "pending_execution")[self.stats["old_pending"] % 2]

    def _recorded_type(self, book: Book, kind: str) -> Optional[str]:
        """The app's own entry_type: mostly right, sometimes wrong or NULL."""
        rng = self.rng
        r = rng.random()
        if kind == "initial":
            recently = (book.last_close_t is not None
                        and self.day_t[self.di] + OPEN_SECOND - book.last_close_t < 2 * DAY)
            if recently and r < 0.4:
                self.stats["wrong_recorded_type"] += 1
                return "reentry"
            return None if r > 0.95 else "initial"
        if kind == "reentry":
            return None if r > 0.95 else "reentry"
        if kind == "manual":
            if r < 0.12 and book.held > 0:
                self.stats["wrong_recorded_type"] += 1
                return "reentry"
            return None if r > 0.92 else "manual"
        return None if r > 0.9 else "exit"

    def _after_reentry(self, book: Book, o: Order, level: int, r: float, p: float,
                       executed: bool) -> None:
        """Level bookkeeping, positions items and the history-file quirk."""
        rng = self.rng
        cyc = book.cycle
        if rng.random() < P_DUP_LEVEL or self._force("dup_level"):
            self._note("dup_level")  # the app forgot to record the level
        else:
            book.levels |= LEVEL_BIT[level]
        book.levels_g = self.g
        if cyc is None:
            return
        cyc.attempts += 1
        item: dict[str, Any] = {"qty": o.qty, "level": level, "rsi": r, "price": p,
                                "time": self._hist_time(o.t_place)}
        if o.t_place >= self.boundary_t:
            item["placed_at"] = self.clock.fmt(o.t_place, 2)
            if o.order_id is not None:
                item["order_id"] = o.order_id
        if executed:
            cyc.items.append(item)
        trade = cyc.trade
        if book.mode != "broker" or trade is None:
            return
        for other in book.sym.open_trades.get(trade.file_key, ()):
            data = other.data
            old_qty = data["qty"]
            data["entry_price"] = round((data["entry_price"] * old_qty + p * o.qty)
                                        / (old_qty + o.qty), 2)
            data["qty"] = old_qty + o.qty
            data["reentries"].append(dict(item))
        data = trade.data
        if "levels_taken" in data:
            data["levels_taken"] = [lv for lv in LEVELS if book.levels & LEVEL_BIT[lv]]
            data["reset_ready"] = False

    # ----- cycles and trades --------------------------------------------

    def _open_cycle(self, book: Book, o: Order, fill_t: int, r: float) -> None:
        sym = book.sym
        book.cycle_no += 1
        book.app_cycle += 1
        cyc = Cycle(book.cycle_no, o.oid, fill_t, o.fill_price, o.filled_qty, r)
        book.cycle = cyc
        book.levels = LEVEL_BIT[30]
        book.levels_g = self.g
        ema9 = sym.ema9
        book.target = round(max(ema9 * TARGET_OVER_EMA9, o.fill_price * 1.004), 2)
        book.last_opened_at = fill_t
        sym.n_open += 1
        if book.target < sym.min_target:
            sym.min_target = book.target
        self.stats["cycles"] += 1
        if book.mode == "broker" and self._record_trade():
            cyc.trade = self._new_trade(book, o, fill_t, r)

    def _record_trade(self) -> bool:
        """Older-era trades are always written (they close the cycles); newer-era
        ones are thinned to meet --history-trades."""
        if self.cfg.history_trades is None or not self.new_era:
            return True
        if self.hist_ratio is None:
            budget = max(0, self.cfg.history_trades - self.stats["trades"])
            self.hist_ratio = budget / max(1, self.cfg.orders - self.stats["orders"])
            self.hist_base = (self.stats["trades"], self.stats["orders"])
        trades = self.stats["trades"] - self.hist_base[0]
        orders = self.stats["orders"] - self.hist_base[1]
        return trades < self.hist_ratio * orders + 1

    def _new_trade(self, book: Book, o: Order, fill_t: int, r: float) -> TradeRec:
        sym = book.sym
        data: dict[str, Any] = {
            "symbol": sym.base,
            "placed_symbol": sym.broker,
            "ticker": sym.ticker,
            "entry_price": o.fill_price,
            "entry_time": self._hist_time(fill_t),
            "qty": o.filled_qty,
            "status": "open",
            "rsi10": r,
            "ema9": round(sym.ema9, 2),
            "ema200": round(sym.ema200, 2),
            "capital": book.user.capital,
            "rsi_entry_level": 30,
            "levels_taken": [30],
            "reset_ready": False,
            "entry_type": "manual" if o.kind == "manual" else "initial",
            "order_id": o.order_id,
            "buy_order_id": o.order_id,
            "source": "manual" if o.kind == "manual" else "signal",
            "reentries": [],
        }
        if fill_t < self.boundary_t:  # older app versions wrote less context
            for name in OLDER_TRADE_DROPS:
                del data[name]
        key = self._file_key(book.user)
        trade = TradeRec(data, book.user, key, fill_t, o.filled_qty, book)
        book.sym.open_trades.setdefault(key, []).append(trade)
        self.stats["trades"] += 1
        if key == "shared":
            self.heap_seq += 1
            heapq.heappush(self.rule3_heap, (fill_t, self.heap_seq, trade))
        return trade

    def _evaluate_rule3(self, now: int) -> None:
        """Decide, once the window has passed, what R4.1 rule 3 would say."""
        heap = self.rule3_heap
        while heap and heap[0][0] + RULE3_WINDOW + RULE3_MARGIN < now:
            _, _, trade = heapq.heappop(heap)
            trade.rule3 = self._rule3(trade)

    def _rule3(self, trade: TradeRec) -> str:
        sym = trade.book.sym
        entry = trade.entry_t
        me = trade.user.uid
        in_window: list[tuple[int, int]] = []
        for fill_t, uid, qty in sym.buys:
            gap = abs(fill_t - entry)
            if gap <= RULE3_WINDOW - RULE3_MARGIN:
                in_window.append((uid, qty))
            elif gap <= RULE3_WINDOW + RULE3_MARGIN:
                return "unsafe"
        users = {uid for uid, _ in in_window}
        if users == {me}:
            return "correct"
        if me not in users:
            return "unsafe"
        mine = [qty for uid, qty in in_window if uid == me]
        if len(mine) != 1:
            return "unsafe"
        left = {uid for uid, qty in in_window if qty == trade.init_qty}
        if left == {me}:
            return "correct"
        if len(left) != 1:
            return "none"
        return "unsafe"

    def _close_cycle(self, book: Book, t_close: int, src: str, exit_price: float,
                     reason: str, rsi: float, sell: Optional[Order] = None) -> None:
        sym = book.sym
        cyc = book.cycle
        assert cyc is not None
        delta = 1 + self._rint(20)
        self._write_positions_truth(book, cyc, "closed")
        if cyc.trade is not None:
            self._finish_trade(cyc.trade, t_close, exit_price, reason, src)
        if book.mode == "broker" and self.di >= self.positions_from:
            self._write_new_position(book, cyc, t_close + delta, exit_price, reason, rsi, sell)
        book.last_avg = cyc.avg
        book.last_qty = cyc.bought
        book.held = 0
        book.cycle = None
        book.exit_g = self.g
        book.busy_until = max(book.busy_until, t_close)
        book.last_close_t = t_close
        book.last_close_src = src
        book.last_close_delta = delta
        sym.n_open -= 1
        sym.min_target = min((bk.target for bk in sym.books if bk.held > 0),
                             default=math.inf)

    def _finish_trade(self, trade: TradeRec, t_close: int, exit_price: float,
                      reason: str, src: str) -> None:
        data = trade.data
        data["status"] = "closed"
        data["exit_price"] = exit_price
        data["exit_time"] = self._hist_time(t_close)
        data["exit_reason"] = reason
        self.history[trade.file_key].add_trade(self._trade_ids(trade, src))
        lst = trade.book.sym.open_trades[trade.file_key]
        lst.remove(trade)

    def _trade_ids(self, trade: TradeRec, src: str) -> dict[str, Any]:
        """Most trades keep their order ids; some lose them (R4.1 rules 1 and 3)."""
        rng = self.rng
        data = trade.data
        drop = False
        if trade.file_key != "shared":
            drop = rng.random() < P_DROP_IDS_OWN_FILE
        elif trade.rule3 == "correct":
            drop = rng.random() < P_DROP_IDS
        elif (trade.rule3 == "none" and src == "sell" and trade.entry_t >= self.boundary_t
              and (rng.random() < P_UNATTRIBUTED or not self.stats["unattributed_trades"])):
            drop = True
            self.stats["unattributed_trades"] += 1
        if drop:
            del data["order_id"]
            del data["buy_order_id"]
            self.stats["no_id_trades"] += 1
        else:
            r = rng.random()
            if r < 0.3:
                del data["buy_order_id"]
            elif r < 0.4:
                del data["order_id"]
        return data

    # ----- exits -------------------------------------------------------------

    def _exit(self, book: Book, t: int, r: float, p: float) -> None:
        reason = "EMA9_TARGET" if p >= book.target else "EMA9 or RSI50"
        r, p = round(r, 2), round(p, 2)
        cyc = book.cycle
        assert cyc is not None
        if not self.new_era:
            assert cyc.trade is not None, "older-era cycles always have a history trade"
            self._close_cycle(book, t, "marker", p, reason, r)
            return
        rng = self.rng
        if book.mode == "broker":
            roll = rng.random()
            if cyc.trade is not None and (roll < P_MARKER_ONLY or self._force("marker_only")):
                self._note("marker_only")
                qty = book.held
                self._close_cycle(book, t, "marker", p, "MANUAL_EXIT", r)
                if rng.random() < P_ATTACHED or self._force("attached"):
                    self._schedule_attached(book, t, qty)
                return
            roll -= P_MARKER_ONLY
            if roll < P_CANCEL_SELL or self._force("cancel_sell"):
                self._note("cancel_sell")
                self._sell(book, t, book.held, "cancelled")
                return
            roll -= P_CANCEL_SELL
            if roll < P_OVERSOLD or self._force("oversold"):
                self._note("oversold")
                self._sell(book, t, book.held + 1 + self._rint(max(1, book.held)), "exit",
                           reason)
                return
        self._sell(book, t, book.held, "exit", reason)

    def _schedule_attached(self, book: Book, t_marker: int, qty: int) -> None:
        rng = self.rng
        di, b = self.di, self.b
        if di + 1 < len(self.day_t):
            nb = self._rint(BARS)
            t_sell = self.day_t[di + 1] + OPEN_SECOND + nb * BAR_SECONDS + self._rint(600)
            if t_sell - t_marker < ATTACH_MAX:
                self._add_scheduled(book, di + 1, nb, t_sell, qty)
                return
        if b + 1 < BARS:
            nb = b + 1 + self._rint(BARS - b - 1)
            t_sell = self.day_t[di] + OPEN_SECOND + nb * BAR_SECONDS + self._rint(600)
            self._add_scheduled(book, di, nb, t_sell, qty)

    def _add_scheduled(self, book: Book, di: int, b: int, t_sell: int, qty: int) -> None:
        self.scheduled.setdefault((di, b), []).append((book, t_sell, qty))
        book.busy_until = max(book.busy_until, t_sell + 120)
        self._note("attached")

    def _sell(self, book: Book, t: int, qty: int, how: str, reason: str = "") -> None:
        """Sell orders (newer era only): exit, partial, cancelled, attached, orphan."""
        rng = self.rng
        sym = book.sym
        p = sym.price(self.b)
        o = self._new_order(book, "sell", "exit", qty, t)
        o.day_close = sym.close
        o.order_type = "market"
        o.type_text = self._case("market")
        o.limit_price = None
        o.order_id, o.broker_order_id = self._broker_ids(t, book.mode)
        o.orig_source = "signal" if rng.random() < P_SIGNAL_SOURCE else None
        exit_reason = {"EMA9_TARGET": "TARGET_HIT", "EMA9 or RSI50": "RSI_ABOVE_50"}.get(
            reason, "MANUAL" if how in ("attached", "orphan") else "PARTIAL_PROFIT")
        o.metadata = {"exit_reason": exit_reason,
                      "source": "manual" if how in ("attached", "orphan") else "signal"}
        o.retry_count = None
        o.pending_text = "pending"
        o.recorded_type = self._recorded_type(book, "exit")
        if how == "cancelled":
            o.outcome = "cancelled"
            o.t_fill = None
            o.filled_qty = 0
            o.fill_price = None
            o.t_final = t + self._rint(60, 1200)
            o.status_text = self._case("cancelled")
            o.reason = CANCEL_REASONS[0]
        else:
            o.outcome = "filled"
            o.t_fill = t + 2 + self._rint(60)
            o.t_final = o.t_fill + self._rint(1, 30)
            o.filled_qty = qty
            o.fill_price = round(p * (1.0 + rng.uniform(-0.003, 0.003)), 2)
            o.status_text = self._case("closed" if rng.random() < 0.9 else "ongoing")
            o.reason = None
        fill_t = self._emit(o)
        executed = o.outcome == "filled"
        cyc = book.cycle
        if how == "orphan":
            cycle_number: Optional[int] = None
            self._note("orphan")
        elif how == "attached":
            cycle_number = book.cycle_no
        else:
            assert cyc is not None
            cycle_number = cyc.number
        self._write_truth(o, "exit", cycle_number, executed)
        if executed:
            book.busy_until = max(book.busy_until, o.t_fill)
        else:
            book.busy_until = max(book.busy_until, t)
        if not executed or how in ("orphan", "attached"):
            return
        assert cyc is not None and fill_t is not None
        if how == "partial":
            book.held -= qty
            self._note("partial_exit")
            if cyc.trade is not None:
                cyc.trade.data.setdefault("partial_exits", []).append({
                    "qty": qty, "exit_time": self._hist_time(fill_t),
                    "exit_reason": "PARTIAL_PROFIT", "exit_price": o.fill_price})
            return
        book.held = 0
        self._close_cycle(book, fill_t, "sell", o.fill_price, reason,
                          round(sym.b_rsi[self.b], 2), o)

    # ----- order rows --------------------------------------------------------

    def _new_order(self, book: Book, side: str, kind: str, qty: int, t: int) -> Order:
        rng = self.rng
        o = Order()
        o.oid = self.next_oid
        self.next_oid += 1
        o.book = book
        o.side = side
        o.kind = kind
        o.qty = qty
        o.t_place = t
        # one draw of random bits decides the cosmetic variations of the row
        bits = rng.getrandbits(32)
        sym = book.sym
        o.sym_text = sym.variants[SYMBOL_FORM[bits & 127]]
        bits >>= 7
        if self.new_era:
            o.style = 2 if (bits & 15) < 5 else (bits >> 4) & 1  # 30% with +05:30
        else:
            o.style = (bits >> 4) & 1
        bits >>= 5
        o.side_text = CASE_FORMS[side][CASE_PICK[bits & 31]]
        bits >>= 5
        mode_forms = PAPER_FORMS if book.mode == "paper" else BROKER_FORMS
        o.mode_text = mode_forms[bits & 31]
        bits >>= 5
        o.avg_price_shown = (bits & 15) < (8 if self.new_era else 11)
        bits >>= 4
        o.client_tag = CLIENT_TAGS[bits & 3]
        bits >>= 2
        o.overlap = False
        o.t_pending_update = t + 1 + (bits & 3)
        self.stats["orders"] += 1
        return o

    def _emit(self, o: Order) -> Optional[int]:
        """Write the order's row(s); return the fill time the rules will derive."""
        exports = self.exports
        if o.overlap:
            exports.write(self._render(o, exports.spec, pending=True))
            spec = exports.next_spec
            row = self._render(o, spec, pending=False)
            exports.write_next(row)
            self.stats["rows"] += 2
        else:
            spec = exports.spec
            row = self._render(o, spec, pending=False)
            exports.write(row)
            self.stats["rows"] += 1
        if o.t_fill is None:
            return None
        cols = spec.colset
        if "execution_time" in cols or "filled_at" in cols:
            return o.t_fill
        return o.t_place

    def _render(self, o: Order, spec: ExportSpec, pending: bool) -> dict[str, Any]:
        fmt = self.clock.fmt
        style = 0 if spec.fmt == "parquet" else o.style
        book = o.book
        executed = (not pending) and o.t_fill is not None
        row: dict[str, Any] = {
            "id": o.oid,
            "user_id": book.user.uid,
            "symbol": o.sym_text,
            "side": o.side_text,
            "order_type": o.type_text,
            "quantity": o.qty,
            "price": o.day_close if o.outcome == "failed" else o.limit_price,
            "status": o.pending_text if pending else o.status_text,
            "placed_at": fmt(o.t_place, style),
            "orig_source": o.orig_source,
            "order_id": o.order_id,
            "broker_order_id": o.broker_order_id,
            "metadata": json_text(o.metadata) if o.metadata is not None else None,
        }
        if executed and o.avg_price_shown:
            row["avg_price"] = o.fill_price
        cols = spec.colset
        if spec.era == "old":
            if executed and "filled_at" in cols:
                row["filled_at"] = fmt(o.t_fill, style)
            if not pending and o.outcome == "cancelled":
                row["closed_at"] = fmt(o.t_final, style)
                if "cancelled_reason" in cols:
                    row["cancelled_reason"] = o.reason
                else:
                    row["failure_reason"] = o.reason
            elif not pending and o.reason is not None:
                row["failure_reason"] = o.reason
            if o.outcome == "failed":
                row["retry_count"] = o.retry_count
                row["first_failed_at"] = fmt(o.t_place, style)
            return row
        row["updated_at"] = fmt(o.t_pending_update if pending else o.t_final, style)
        if not pending:
            row["reason"] = o.reason
        if o.outcome == "failed":
            row["retry_count"] = o.retry_count
        if executed:
            row["execution_price"] = o.fill_price
            row["execution_qty"] = o.filled_qty
            row["execution_time"] = fmt(o.t_fill, style)
            if o.style == 1:
                row["filled_at"] = row["execution_time"]
        elif not pending and o.outcome == "cancelled":
            row["execution_qty"] = 0 if self.rng.random() < 0.5 else None
        row["entry_type"] = o.recorded_type
        row["trade_mode"] = o.mode_text
        if "client_tag" in cols:
            row["client_tag"] = o.client_tag
        if "base_symbol" in cols:  # the app's own, buggy: split at the first "-"
            row["base_symbol"] = o.sym_text.upper().split("-")[0].split(".")[0]
        if "last_status_check" in cols:
            row["last_status_check"] = fmt(
                o.t_pending_update if pending else o.t_final, style)
        return row

    def _write_truth(self, o: Order, entry_type: str, cycle_number: Optional[int],
                     executed: bool) -> None:
        book = o.book
        self.truth_orders.writerow((
            o.oid, book.user.uid, book.sym.base, book.mode, entry_type,
            cycle_number if cycle_number is not None else None,
            "true" if executed else "false"))

    def _write_positions_truth(self, book: Book, cyc: Cycle, status: str) -> None:
        self.truth_pos.writerow((
            book.user.uid, book.sym.base, book.mode, cyc.number, cyc.opening_id,
            cyc.reentry_count, cyc.bought, status))

    # ----- positions table ---------------------------------------------------

    def _write_new_position(self, book: Book, cyc: Cycle, closed_at: Optional[int],
                            exit_price: Optional[float], reason: Optional[str],
                            exit_rsi: Optional[float], sell: Optional[Order]) -> None:
        rng = self.rng
        fmt = self.clock.fmt
        style = self._rint(3)
        items = [dict(it, cycle=cyc.number) for it in cyc.items]
        shape = self._rint(3)
        if shape == 0:
            reentries: Any = items
        elif shape == 1:
            reentries = {"reentries": items}
        else:
            reentries = {"_cycle_metadata": {"cycle": cyc.number,
                                             "opened_at": fmt(cyc.opened_at, 2)},
                         "reentries": items}
        count = cyc.reentry_count
        if rng.random() < 0.1:
            count = cyc.attempts + 1  # inflated: counts attempts, off by one
        realized = None
        if closed_at is not None and exit_price is not None:
            realized = round((exit_price - cyc.avg) * cyc.bought, 2)
        row = (
            self._position_id(), book.user.uid, book.sym.broker,
            book.held if closed_at is None else 0, round(cyc.avg, 2),
            round((book.sym.close - cyc.avg) * book.held, 2) if closed_at is None else 0.0,
            fmt(cyc.opened_at, style), fmt(closed_at, style), count,
            json_text(reentries), cyc.initial_price, cyc.last_reentry_price,
            cyc.entry_rsi, exit_price, reason, exit_rsi, realized,
            round(100.0 * realized / (cyc.avg * cyc.bought), 2)
            if realized is not None and cyc.avg > 0 and cyc.bought else None,
            sell.order_id if sell is not None else None,
        )
        self.pos_new.writerow(row)

    def _position_id(self) -> int:
        n = self.next_position_id
        self.next_position_id += 1
        return n

    def _write_old_positions(self) -> None:
        """Older app: one row per (user, base symbol), closed_at never cleared."""
        fmt = self.clock.fmt
        path = self.cfg.out / "positions" / self.old_positions_name
        handle, writer = open_csv(path, OLD_POSITION_COLS)
        with handle:
            for sym in self.symbols:
                for book in sym.books:
                    if book.mode != "broker" or book.cycle_no == 0:
                        continue
                    closed_at = (None if book.last_close_t is None
                                 else book.last_close_t + book.last_close_delta)
                    cyc = book.cycle
                    avg = cyc.avg if cyc is not None else book.last_avg
                    writer.writerow((
                        self._position_id(), book.user.uid, sym.base,
                        book.held if cyc is not None else book.last_qty, round(avg, 2),
                        round((sym.close - avg) * book.held, 2), fmt(book.last_opened_at, 0),
                        fmt(closed_at, 0)))

    # ----- end -----------------------------------------------------------------

    def _finish(self) -> None:
        for sym in self.symbols:
            for book in sym.books:
                cyc = book.cycle
                if cyc is None:
                    continue
                self._write_positions_truth(book, cyc, "open")
                if book.mode == "broker":
                    self._write_new_position(book, cyc, None, None, None, None, None)
                if cyc.trade is not None:
                    self.history[cyc.trade.file_key].add_trade(
                        self._trade_ids(cyc.trade, "open"))
        self.exports.close()
        for handle in (self.truth_orders_f, self.truth_pos_f, self.pos_new_f):
            handle.close()
        last_run = self.clock.fmt(self.day_t[-1] + 15 * HOUR + 35 * 60, 1) + ".123456"
        for hist in self.history.values():
            hist.finish(last_run)  # type: ignore[arg-type]

    def summary(self, seconds: float) -> str:
        files = sum(1 for p in self.cfg.out.rglob("*") if p.is_file())
        return (f"generated {files} raw files in {self.cfg.out} and truth in {self.cfg.truth}: "
                f"{self.stats['orders']} orders ({self.stats['rows']} rows in "
                f"{len(self.plan)} exports), {self.stats['cycles']} position cycles, "
                f"{sum(h.n_trades for h in self.history.values())} history trades, "
                f"{self.cfg.sizes.users} users, {self.cfg.sizes.symbols} symbols, "
                f"{self.cfg.sizes.days} days, in {seconds:.1f}s")


def make_progress(total: int, quiet: bool) -> Callable[[Optional[int]], None]:
    """A tqdm progress bar over days (no-op when quiet or tqdm is missing)."""
    if quiet:
        return lambda n: None
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - tqdm is in the project venv
        return lambda n: None
    bar = tqdm(total=total, unit="day", desc="simulating", file=sys.stderr, leave=False)

    def step(n: Optional[int]) -> None:
        if n is None:
            bar.close()
        else:
            bar.update(n)

    return step


# --------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------


def parse_args(argv: Optional[list[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Simulate the auto-trading app and write raw exports plus the truth.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("data/raw"),
                        help="raw folder to (re)create: orders/, positions/, trade_history/")
    parser.add_argument("--truth", type=Path, default=Path("data/truth"),
                        help="truth folder to (re)create")
    parser.add_argument("--seed", type=int, default=42, help="random seed")
    parser.add_argument("--orders", type=int, default=5000,
                        help="approximate number of orders to simulate")
    parser.add_argument("--users", type=int, default=None,
                        help="number of users (default: scaled from --orders)")
    parser.add_argument("--symbols", type=int, default=None,
                        help="number of symbols (default: scaled from --orders)")
    parser.add_argument("--days", type=int, default=None,
                        help="number of trading days (default: scaled from --orders)")
    parser.add_argument("--history-trades", type=int, default=None,
                        help="approximate number of history trades (default: one per "
                             "position cycle of the broker books)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if args.orders < 1:
        parser.error("--orders must be positive")
    for name in ("users", "symbols", "days", "history_trades"):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f"--{name.replace('_', '-')} must be positive")
    return args


def generate(args: argparse.Namespace) -> Simulator:
    """Prepare the folders and run the simulation."""
    out = args.out.resolve()
    truth = args.truth.resolve()
    if out == truth or out in truth.parents or truth in out.parents:
        raise GeneratorError("--out and --truth must be separate folders")
    sizes = plan_sizes(args.orders, args.users, args.symbols, args.days)
    prepare_dir(out, OUT_ALLOWED, "--out")
    prepare_dir(truth, TRUTH_ALLOWED, "--truth")
    (out / "orders").mkdir()
    cfg = Config(out=out, truth=truth, seed=args.seed, orders=args.orders, sizes=sizes,
                 history_trades=args.history_trades, quiet=args.quiet)
    with tempfile.TemporaryDirectory(prefix="gen_sample_", dir=out.parent) as tmp:
        sim = Simulator(cfg, Path(tmp))
        sim.run()
    return sim


def main(argv: Optional[list[str]] = None) -> int:
    args = parse_args(argv)
    started = wallclock.monotonic()
    try:
        sim = generate(args)
    except GeneratorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(sim.summary(wallclock.monotonic() - started))
    return 0


if __name__ == "__main__":
    sys.exit(main())
