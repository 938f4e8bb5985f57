"""The files the app hands the warehouse and the truth beside them: order exports
(CSV and Parquet, columns by app era), positions exports, trades_history.json
(streamed, byte-identical to ``json.dump(indent=2)``), orders_truth.csv and
positions_truth.csv.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import random
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional, TextIO

from .rules import LIVE_MODE
from .state import Book, Cycle, Order


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


OUT_ALLOWED = {"orders", "positions", "trade_history"}
TRUTH_ALLOWED = {"orders_truth.csv", "positions_truth.csv"}


class GeneratorError(Exception):
    """A problem with the arguments or the output folders."""


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


class WritersMixin:
    """Writes what the app hands the warehouse (order rows, positions rows) and the truth.

    A mixin of Simulator (simulation.py), which holds the state these methods use.
    """

    rng: random.Random

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
                    if book.mode != LIVE_MODE or book.cycle_no == 0:
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
