"""The marts against the independent reference implementation (tests/python/reference.py).

On the end-to-end warehouse (fixture `built`: 20,000 generated orders, loaded and
built once per session) the reference re-derives every order, position cycle, daily
P&L row and daily reentry row from the raw folder alone, and each mart must agree with it
exactly: every row, every compared column. Floats agree within 1e-6 relative or
1e-6 absolute; NULL must meet NULL. A mismatch prints a few rows with both values.
"""
from __future__ import annotations

import csv
import datetime as dt
import json
import math
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

import reference
from conftest import dbt, python, record_summary

EXAMPLES = 8

ORDER_COLUMNS = ["entry_type", "user_id", "base_symbol", "trade_mode", "cycle_number",
                 "parent_order_id", "is_executed", "oversold_qty", "charges"]
REENTRY_COLUMNS = ["history_item_id", "reentry_match_method", "reentry_level", "reentry_rsi",
                   "decision_close", "reentry_number"]
POSITION_R5_COLUMNS = [
    "initial_order_id", "status", "close_source", "initial_entry_price", "initial_qty",
    "reentry_count", "total_reentry_qty", "avg_reentry_price", "last_reentry_price",
    "reentry_discount_pct", "avg_entry_price", "total_bought_qty", "total_sold_qty",
    "marker_closed_qty", "held_qty", "realized_pnl", "realized_pnl_pct", "holding_days",
    "max_level_reached", "opened_at", "closed_at"]
POSITION_R8_COLUMNS = [
    "exit_vwap", "pnl_without_reentries", "reentry_pnl", "peak_cost_basis",
    "return_on_peak_capital_pct", "charges", "net_realized_pnl", "exit_reason"]
DAILY_COLUMNS = ["realized_pnl", "charges", "net_pnl", "cumulative_realized_pnl",
                 "cumulative_net_pnl", "drawdown"]
DAILY_REENTRY_COLUMNS = ["executed_reentries", "attempted_reentries", "distinct_levels",
                         "is_over_cap", "has_repeated_level"]


def same(left: Any, right: Any) -> bool:
    """Equal; numbers within 1e-6 relative or 1e-6 absolute; NULL only meets NULL."""
    if left is None or right is None:
        return left is None and right is None
    if isinstance(left, bool) or isinstance(right, bool):
        return left == right
    if isinstance(left, (int, float, Decimal)) and isinstance(right, (int, float, Decimal)):
        return math.isclose(float(left), float(right), rel_tol=1e-6, abs_tol=1e-6)
    return left == right


def mismatches(reference_rows: dict[Any, dict[str, Any]], mart_rows: dict[Any, dict[str, Any]],
               columns: list[str]) -> dict[str, list[tuple[Any, Any, Any]]]:
    """Per column: (key, reference value, mart value) of every row that differs; rows in
    one side only are reported under '<row>'."""
    found: dict[str, list[tuple[Any, Any, Any]]] = {}
    for key in sorted(set(reference_rows) | set(mart_rows), key=repr):
        ref, mart = reference_rows.get(key), mart_rows.get(key)
        if ref is None or mart is None:
            found.setdefault("<row>", []).append((key, ref is not None, mart is not None))
            continue
        for column in columns:
            if not same(ref[column], mart[column]):
                found.setdefault(column, []).append((key, ref[column], mart[column]))
    return found


def report(found: dict[str, list[tuple[Any, Any, Any]]], what: str) -> str:
    lines = [f"{what}: reference and mart disagree"]
    for column, rows in found.items():
        lines.append(f"  {column}: {len(rows)} rows, e.g. (key, reference, mart):")
        lines.extend(f"    {row}" for row in rows[:EXAMPLES])
    return "\n".join(lines)


def assert_agree(found: dict[str, list[tuple[Any, Any, Any]]], what: str,
                 columns: list[str]) -> None:
    relevant = {c: rows for c, rows in found.items() if c in columns or c == "<row>"}
    assert not relevant, report(relevant, what)


# --------------------------------------------------------------------------
# Fixtures: the reference derivation and the marts, read once
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def derivation(built: dict[str, Path]) -> reference.Derivation:
    return reference.derive(built["raw"])


def fetch(built: dict[str, Path], sql: str) -> list[dict[str, Any]]:
    con = duckdb.connect(str(built["warehouse"]), read_only=True)
    try:
        con.execute("set TimeZone = 'UTC'")
        rel = con.sql(sql)
        return [dict(zip(rel.columns, row)) for row in rel.fetchall()]
    finally:
        con.close()


@pytest.fixture(scope="module")
def mart_orders(built: dict[str, Path]) -> dict[Any, dict[str, Any]]:
    return {r["order_id"]: r for r in fetch(built, "select * from marts.fct_orders")}


@pytest.fixture(scope="module")
def mart_positions(built: dict[str, Path]) -> dict[Any, dict[str, Any]]:
    rows = fetch(built, "select * from marts.fct_positions")
    return {(r["user_id"], r["base_symbol"], r["trade_mode"], r["cycle_number"]): r for r in rows}


@pytest.fixture(scope="module")
def mart_daily_reentries(built: dict[str, Path]) -> dict[Any, dict[str, Any]]:
    rows = fetch(built, "select * from marts.fct_daily_reentries")
    return {(r["user_id"], r["base_symbol"], r["trade_mode"], r["trading_date"]): r for r in rows}


@pytest.fixture(scope="module")
def mart_daily(built: dict[str, Path]) -> dict[Any, dict[str, Any]]:
    rows = fetch(built, "select * from marts.fct_daily_pnl")
    return {(r["user_id"], r["trade_mode"], r["trading_date"]): r for r in rows}


def reference_orders(d: reference.Derivation) -> dict[Any, dict[str, Any]]:
    rows = {}
    for order_id, order in d.orders.items():
        typed = d.typed[order_id]
        detail = d.reentries.get(order_id, reference.ReentryDetail())
        rows[order_id] = {
            "history_item_id": detail.history_item_id,
            "reentry_match_method": detail.match_method, "reentry_level": detail.level,
            "reentry_rsi": detail.rsi, "decision_close": detail.decision_close,
            "reentry_number": detail.reentry_number,
            "entry_type": typed.entry_type, "user_id": order.user_id,
            "base_symbol": order.base_symbol, "trade_mode": order.trade_mode,
            "cycle_number": typed.cycle_number, "parent_order_id": typed.parent_order_id,
            "is_executed": order.is_executed, "oversold_qty": typed.oversold_qty,
            "charges": reference.charges(order, d.params),
        }
    return rows


def reference_positions(d: reference.Derivation) -> dict[Any, dict[str, Any]]:
    return {key: vars(position) for key, position in d.positions.items()}


def reference_daily(d: reference.Derivation) -> dict[Any, dict[str, Any]]:
    return {key: vars(row) for key, row in d.daily.items()}


# --------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------


def test_reference_reproduces_the_worked_example(tmp_path: Path) -> None:
    """R5/R8 worked example, through the reference's own walk: 10 @ 2500, reentry 5 @ 2400,
    reentry 3 @ 2300, one sell of 18 @ 2450."""
    params = reference.load_params()
    start = dt.datetime(2025, 1, 6, 4, 0, tzinfo=dt.timezone.utc)

    def order(oid: int, side: str, qty: int, price: float, minutes: int) -> reference.Order:
        at = start + dt.timedelta(minutes=minutes)
        return reference.Order(
            id=oid, user_id=1, symbol="RELIANCE-EQ", base_symbol="RELIANCE", trade_mode="broker",
            side=side, status="closed", quantity=Decimal(qty), filled_qty=Decimal(qty),
            fill_price=price, filled_at=at, placed_at=at, updated_at=None, is_manual=False,
            order_id=None, broker_order_id=None, recorded_entry_type=None, metadata={},
            source_file="x.csv")

    events = [order(1, "buy", 10, 2500, 0), order(2, "buy", 5, 2400, 60),
              order(3, "buy", 3, 2300, 120), order(4, "sell", 18, 2450, 180)]
    typed, cycles = reference.walk_book((1, "RELIANCE", "broker"), events, params)
    assert [typed[i].entry_type for i in (1, 2, 3, 4)] == ["initial", "reentry", "reentry", "exit"]
    position = reference.position_metrics(cycles[0], typed, params)
    assert round(reference.cost_events(cycles[0])[2].avg_after, 2) == 2438.89
    assert (position.reentry_count, round(position.avg_reentry_price, 2),
            position.last_reentry_price, round(position.reentry_discount_pct, 2)) == (2, 2362.50, 2300, -5.50)
    assert round(position.realized_pnl, 2) == 200.00 and position.exit_vwap == 2450
    assert round(position.pnl_without_reentries, 2) == -500.00
    assert round(position.reentry_pnl, 2) == 700.00
    assert round(position.peak_cost_basis, 2) == 43900.00
    assert round(position.return_on_peak_capital_pct, 4) == 0.4556
    assert round(position.charges, 2) == 88.00 and round(position.net_realized_pnl, 2) == 112.00


def write_raw(raw: Path, orders: list[dict[str, Any]], positions: list[dict[str, Any]]) -> None:
    for folder, name, rows in (("orders", "orders_a.csv", orders),
                               ("positions", "positions_a.csv", positions)):
        (raw / folder).mkdir(parents=True)
        columns = list(dict.fromkeys(c for row in rows for c in row))
        with open(raw / folder / name, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, columns)
            writer.writeheader()
            writer.writerows(rows)
    (raw / "trade_history").mkdir()
    (raw / "trade_history" / "trades_history.json").write_text('{"trades": []}')


def test_reference_reads_positions_markers_and_the_naive_utc_window(tmp_path: Path) -> None:
    """R6 on a hand-written raw folder: a positions row closes the cycle (priced at its
    exit_price, its exit_reason), a later sell attaches to it; inside the naive-UTC window
    naive order times are UTC, so 18:40 is the next India day."""
    buy = {"id": 1, "user_id": 7, "symbol": "reliance.ns", "side": "BUY", "order_type": "market",
           "quantity": 10, "price": "", "status": "closed", "placed_at": "2025-01-06T10:00:00",
           "execution_price": 100, "execution_qty": 10, "execution_time": "2025-01-06T10:00:00"}
    sell = dict(buy, id=2, side="sell", execution_price=120, placed_at="2025-01-07T18:40:00",
                execution_time="2025-01-07T18:40:00")
    marker = {"id": 1, "user_id": 7, "symbol": "RELIANCE-EQ", "quantity": 0,
              "opened_at": "2025-01-06T10:00:00", "closed_at": "2025-01-07T10:00:00+05:30",
              "exit_price": 110, "exit_reason": " target_hit "}
    write_raw(tmp_path / "raw", [buy, sell], [marker])
    params = reference.load_params(naive_utc_from="2025-01-01 00:00:00",
                                   naive_utc_until="2025-02-01 00:00:00")
    d = reference.derive(tmp_path / "raw", params)
    assert d.orders[1].filled_at == dt.datetime(2025, 1, 6, 10, 0, tzinfo=dt.timezone.utc)
    position = d.positions[(7, "RELIANCE", "broker", 1)]
    assert (position.close_source, position.exit_reason) == ("positions_table", "TARGET_HIT")
    assert position.realized_pnl == 100.0 and position.exit_vwap == 110.0
    assert d.typed[2].is_attached_exit and d.typed[2].oversold_qty == 10
    assert position.charges == 1.0 + 1.2  # the attached sell's charges count in the cycle
    days = {key[2]: row.realized_pnl for key, row in d.daily.items()}
    assert days == {dt.date(2025, 1, 6): 0.0, dt.date(2025, 1, 7): 100.0, dt.date(2025, 1, 8): 0.0}
    outside = reference.derive(tmp_path / "raw")  # default: empty window, naive is India time
    assert outside.orders[1].filled_at == dt.datetime(2025, 1, 6, 4, 30, tzinfo=dt.timezone.utc)


def test_orders_agree_with_reference(derivation: reference.Derivation,
                                     mart_orders: dict[Any, dict[str, Any]]) -> None:
    """R1-R3, R8.4 for every order: entry type, book and cycle, executed, charges."""
    found = mismatches(reference_orders(derivation), mart_orders, ORDER_COLUMNS)
    record_summary(f"reference vs fct_orders: {len(mart_orders)} orders, "
                   f"{sum(len(v) for v in found.values())} differing values")
    assert_agree(found, "fct_orders", ORDER_COLUMNS)


def test_reentry_detail_agrees_with_reference(derivation: reference.Derivation,
                                              mart_orders: dict[Any, dict[str, Any]]) -> None:
    """R4.2-R4.4 for every reentry-typed order: matched history item and how, level, RSI,
    decision close, reentry number (NULL on other orders)."""
    found = mismatches(reference_orders(derivation), mart_orders, REENTRY_COLUMNS)
    assert_agree(found, "fct_orders reentry detail", REENTRY_COLUMNS)


def test_daily_reentries_agree_with_reference(
        derivation: reference.Derivation,
        mart_daily_reentries: dict[Any, dict[str, Any]]) -> None:
    """R7 for every (book, India date of placed_at) with a reentry-typed order."""
    rows = {key: vars(row) for key, row in derivation.daily_reentries.items()}
    found = mismatches(rows, mart_daily_reentries, DAILY_REENTRY_COLUMNS)
    record_summary(f"reference vs fct_daily_reentries: {len(mart_daily_reentries)} book-days, "
                   f"{sum(len(v) for v in found.values())} differing values")
    assert_agree(found, "fct_daily_reentries", DAILY_REENTRY_COLUMNS)


def test_positions_r5_agree_with_reference(derivation: reference.Derivation,
                                           mart_positions: dict[Any, dict[str, Any]]) -> None:
    """R2/R5 (+ R6 positions markers) for every cycle."""
    found = mismatches(reference_positions(derivation), mart_positions, POSITION_R5_COLUMNS)
    record_summary(f"reference vs fct_positions (R5): {len(mart_positions)} cycles, "
                   f"{sum(len(v) for v in found.values())} differing values")
    assert_agree(found, "fct_positions R5", POSITION_R5_COLUMNS)


def test_positions_r8_agree_with_reference(derivation: reference.Derivation,
                                           mart_positions: dict[Any, dict[str, Any]]) -> None:
    """R8.1-R8.5 for every cycle (NULL while open)."""
    found = mismatches(reference_positions(derivation), mart_positions, POSITION_R8_COLUMNS)
    assert_agree(found, "fct_positions R8", POSITION_R8_COLUMNS)


def test_daily_pnl_agrees_with_reference(derivation: reference.Derivation,
                                         mart_daily: dict[Any, dict[str, Any]]) -> None:
    """R8.6 for every (user, trade mode, India date)."""
    found = mismatches(reference_daily(derivation), mart_daily, DAILY_COLUMNS)
    record_summary(f"reference vs fct_daily_pnl: {len(mart_daily)} days, "
                   f"{sum(len(v) for v in found.values())} differing values")
    assert_agree(found, "fct_daily_pnl", DAILY_COLUMNS)


# --------------------------------------------------------------------------
# Edge cases the generated data never has, on a hand-written raw folder
# --------------------------------------------------------------------------

NAIVE_UTC = {"naive_utc_from": "2025-01-13 00:00:00", "naive_utc_until": "2025-01-14 00:00:00"}
ORDER_FIELDS = ["id", "user_id", "symbol", "side", "order_type", "quantity", "price", "status",
                "placed_at", "updated_at", "execution_price", "execution_qty", "execution_time",
                "trade_mode", "orig_source", "order_id", "broker_order_id", "metadata"]


def edge_order(oid: int, user: int, symbol: str, side: str, qty: int, fill: Any, at: str,
               **extra: Any) -> dict[str, Any]:
    """An executed market order filled at `at` at `fill` (override any column with `extra`)."""
    row = {"id": oid, "user_id": user, "symbol": symbol, "side": side, "order_type": "market",
           "quantity": qty, "status": "closed", "placed_at": at, "execution_price": fill,
           "execution_qty": qty, "execution_time": at}
    row.update(extra)
    return row


EDGE_ORDERS = [
    # R2 ties: a buy and a sell at one instant (buy first); two buys at one instant (by id)
    edge_order(1, 1, "reliance.ns", "buy", 10, 100, "2025-01-06T10:00:00"),
    edge_order(2, 1, "RELIANCE-EQ", "SELL", 10, 110, "2025-01-06T10:00:00",
               metadata='{"exit_reason": " target_hit "}'),
    edge_order(3, 1, "RELIANCE-EQ", "buy", 4, 105, "2025-01-06T11:00:00"),
    edge_order(4, 1, "RELIANCE-EQ", "buy", 6, 95, "2025-01-06T11:00:00"),
    edge_order(5, 1, "RELIANCE-EQ", "sell", 10, 101, "2025-01-07T10:00:00"),
    # R6 positions-table close, then sells 1 s inside and exactly at exit_attach_hours
    edge_order(10, 2, "INFY-EQ", "buy", 5, 200, "2025-01-07T11:00:00"),
    edge_order(11, 2, "INFY-EQ", "sell", 2, 205, "2025-01-10T11:59:59"),
    edge_order(12, 2, "INFY-EQ", "sell", 3, 206, "2025-01-10T12:00:00"),
    # a sell at the same instant as a positions-table close: the sell closes the cycle
    edge_order(13, 2, "TCS-EQ", "buy", 5, 300, "2025-01-07T11:00:00"),
    edge_order(14, 2, "TCS-EQ", "sell", 5, 310, "2025-01-08T12:00:00"),
    # R4.1 rule 2 history close; R4.3 reentries matched by time (one executed, one failed)
    edge_order(20, 3, "HDFCBANK-EQ", "buy", 10, 1600, "2025-01-08T14:00:00", order_id="B20"),
    edge_order(21, 3, "HDFCBANK-EQ", "buy", 5, None, "2025-01-08T15:00:00", status="pending",
               execution_qty=None, execution_time=None, order_id="B21",
               updated_at="2025-01-08T15:00:05"),
    edge_order(22, 3, "HDFCBANK-EQ", "buy", 4, None, "2025-01-08T15:10:00", status="failed",
               execution_price=None, execution_qty=None, execution_time=None, price=1540),
    # R1.7 India dates after 18:30 UTC (paper book)
    edge_order(30, 4, "SBIN-EQ", "buy", 100, 600, "2025-01-09T19:00:00Z", trade_mode="PAPER"),
    edge_order(31, 4, "SBIN-EQ", "sell", 100, 610, "2025-01-10T18:45:00+00:00", trade_mode="paper"),
    # R6 naive-UTC window: naive 20:00 inside it is 01:30 India time the next day
    edge_order(32, 4, "ITC-EQ", "buy", 50, 440, "2025-01-13T20:00:00"),
    edge_order(33, 4, "ITC-EQ", "sell", 50, 445, "2025-01-14T10:00:00"),
    # R1.3/R1.4 unpriced status-only fills: the first priced buy sets the average
    edge_order(40, 5, "WIPRO-EQ", "buy", 10, None, "2025-01-06T10:00:00", status="ongoing",
               execution_qty=None),
    edge_order(41, 5, "WIPRO-EQ", "buy", 5, 450, "2025-01-06T12:00:00"),
    edge_order(42, 5, "WIPRO-EQ", "sell", 15, 460, "2025-01-07T10:00:00"),
    edge_order(43, 5, "WIPRO-EQ", "buy", 10, None, "2025-01-08T10:00:00", status="ongoing",
               execution_qty=None),
    edge_order(44, 5, "WIPRO-EQ", "sell", 10, 470, "2025-01-09T10:00:00"),
    # R4.1 rule 3 (no ids, one user's buy within 30 minutes); a manual buy opens a cycle
    edge_order(60, 6, "ONGC-EQ", "buy", 40, 260, "2025-01-15T10:00:10", orig_source="manual"),
    edge_order(61, 6, "ONGC-EQ", "buy", 20, 250, "2025-01-15T13:00:00"),
    # R1.1: a base symbol with a dash of its own
    edge_order(70, 7, "bajaj-auto-eq", "buy", 2, 8900, "2025-01-06T10:00:00"),
    edge_order(71, 7, "BAJAJ-AUTO.NS", "sell", 2, 9000, "2025-01-07T10:00:00"),
]
# R1.8: a newer valid version wins (order 21 filled after its pending version); a newer
# quarantined one (unknown status) does not
EDGE_ORDERS_LATER = [
    edge_order(21, 3, "HDFCBANK-EQ", "buy", 5, 1550, "2025-01-08T15:00:00",
               execution_time="2025-01-08T15:00:30", order_id="B21",
               updated_at="2025-01-08T15:01:00"),
    edge_order(61, 6, "ONGC-EQ", "buy", 20, 250, "2025-01-15T13:00:00", status="bogus",
               updated_at="2025-01-15T14:00:00"),
]
EDGE_POSITIONS = [
    {"id": 1, "user_id": 2, "symbol": "INFY-EQ", "quantity": 0, "opened_at": "2025-01-07T11:00:00",
     "closed_at": "2025-01-08T12:00:00", "exit_price": 210, "exit_reason": "manual_exit"},
    {"id": 2, "user_id": 2, "symbol": "TCS", "quantity": 0, "opened_at": "2025-01-07T11:00:00",
     "closed_at": "2025-01-08T12:00:00", "exit_price": 999, "exit_reason": "stale"},
]
EDGE_HISTORY = {"trades": [
    {"symbol": "HDFCBANK", "entry_price": 1583.33, "entry_time": "2025-01-08T14:00:00", "qty": 19,
     "status": "closed", "exit_price": 1650, "exit_time": "2025-01-09T10:00:00+05:30",
     "exit_reason": "EMA9_TARGET", "order_id": "B20",
     "reentries": [{"qty": 5, "level": 20, "rsi": 18.5, "price": 1551, "time": "2025-01-08T15:05:00"},
                   {"qty": 4, "level": 10, "rsi": 9.5, "price": 1541, "time": "2025-01-08T15:12:00"}]},
    {"symbol": "ONGC", "entry_price": 260, "entry_time": "2025-01-15T10:20:00+05:30", "qty": 40,
     "status": "closed", "exit_price": 270, "exit_time": "2025-01-16T10:00:00", "reentries": []},
], "failed_orders": [], "last_run": "2025-01-16T15:35:00.123456"}


def write_csv(path: Path, fields: list[str], rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fields)
        writer.writeheader()
        writer.writerows({k: ("" if v is None else v) for k, v in row.items()} for row in rows)


def write_edge_raw(raw: Path) -> None:
    """The hand-written raw folder: orders (two exports), positions, the history file."""
    write_csv(raw / "orders" / "orders_a.csv", ORDER_FIELDS, EDGE_ORDERS)
    write_csv(raw / "orders" / "orders_b.csv", ORDER_FIELDS, EDGE_ORDERS_LATER)
    write_csv(raw / "positions" / "positions_a.csv",
              ["id", "user_id", "symbol", "quantity", "opened_at", "closed_at", "exit_price",
               "exit_reason"], EDGE_POSITIONS)
    (raw / "trade_history").mkdir()
    (raw / "trade_history" / "trades_history.json").write_text(json.dumps(EDGE_HISTORY, indent=2))


@pytest.fixture(scope="module")
def edge_cases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The hand-written raw folder, loaded and built (`dbt run`) with the naive-UTC window set."""
    root = tmp_path_factory.mktemp("edge_cases")
    raw = root / "raw"
    write_edge_raw(raw)
    warehouse = root / "warehouse.duckdb"
    python("load_raw.py", "--raw-dir", str(raw), "--warehouse", str(warehouse), "--quiet")
    dbt("run", "--vars", json.dumps(NAIVE_UTC), warehouse=warehouse, target_path=root / "target")
    return {"raw": raw, "warehouse": warehouse}


def test_edge_cases_agree_with_reference(edge_cases: dict[str, Path]) -> None:
    """Every mart row of the hand-written folder (ties, positions-table close and attach
    window, India dates after 18:30 UTC, the naive-UTC window, unpriced fills, versions,
    rule 2 and rule 3 attribution, reentry matching) equals the reference."""
    d = reference.derive(edge_cases["raw"], reference.load_params(**NAIVE_UTC))
    assert d.positions[(2, "INFY", "broker", 1)].close_source == "positions_table"
    assert d.typed[11].is_attached_exit and d.typed[12].is_orphan_exit
    assert d.positions[(2, "TCS", "broker", 1)].close_source == "sell"
    assert d.positions[(3, "HDFCBANK", "broker", 1)].close_source == "trade_history"
    assert d.reentries[21].level == 20 and d.reentries[22].level == 10
    assert d.orders[32].filled_at == dt.datetime(2025, 1, 13, 20, tzinfo=dt.timezone.utc)
    assert d.positions[(6, "ONGC", "broker", 1)].close_source == "trade_history"
    assert d.orders[21].is_executed and d.orders[61].status == "closed"
    assert (7, "BAJAJ-AUTO", "broker", 1) in d.positions
    orders = {r["order_id"]: r for r in fetch(edge_cases, "select * from marts.fct_orders")}
    positions = {(r["user_id"], r["base_symbol"], r["trade_mode"], r["cycle_number"]): r
                 for r in fetch(edge_cases, "select * from marts.fct_positions")}
    daily = {(r["user_id"], r["trade_mode"], r["trading_date"]): r
             for r in fetch(edge_cases, "select * from marts.fct_daily_pnl")}
    daily_reentries = {(r["user_id"], r["base_symbol"], r["trade_mode"], r["trading_date"]): r
                       for r in fetch(edge_cases, "select * from marts.fct_daily_reentries")}
    found = {
        "fct_orders": mismatches(reference_orders(d), orders, ORDER_COLUMNS + REENTRY_COLUMNS),
        "fct_positions": mismatches(reference_positions(d), positions,
                                    POSITION_R5_COLUMNS + POSITION_R8_COLUMNS),
        "fct_daily_pnl": mismatches(reference_daily(d), daily, DAILY_COLUMNS),
        "fct_daily_reentries": mismatches({k: vars(v) for k, v in d.daily_reentries.items()},
                                          daily_reentries, DAILY_REENTRY_COLUMNS),
    }
    problems = [report(rows, mart) for mart, rows in found.items() if rows]
    assert not problems, "\n".join(problems)
