"""An independent reference implementation of the derivation rules, in plain Python.

It reads a raw folder exactly as ``shared/spec/raw-data.md`` describes it and
applies ``shared/spec/rules.md`` (R1-R5, R6's positions markers and naive-UTC
window, R7, R8.1-R8.6) with the rule parameters read from the vars of
``dbt_project.yml``. It is written from the spec, not from the SQL: each rule is
one small function below, named after it. The tests use it twice:

- ``test_generate_sample_data.py``: the simulator's truth files must agree with it;
- ``test_reference.py``: the marts of a built warehouse must agree with it, exactly.

Choices where the spec leaves one open follow DECISIONS.md and are marked
"choice" in the docstrings. Not covered: R6's quarantine bookkeeping (invalid
rows are simply not used here), R8.7 (metrics over the marts) and R9 (no fills
table or second source in an exported folder).

Times are ``datetime`` instants (aware, UTC); quantities are ``Decimal`` (the
walk tests ``held == 0``); prices and money are ``float``.
"""
from __future__ import annotations

import csv
import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Iterator, Optional
from zoneinfo import ZoneInfo

import duckdb
import yaml

PROJECT = Path(__file__).resolve().parents[2]
ZERO = Decimal(0)

# R1.2: raw status (lower-cased) -> status
STATUS = {
    "amo": "pending", "pending_execution": "pending", "pending": "pending", "sell": "pending",
    "ongoing": "ongoing", "closed": "closed",
    "failed": "failed", "retry_pending": "failed", "rejected": "failed",
    "cancelled": "cancelled", "canceled": "cancelled",
}
SIDES = {"buy", "sell"}

# R2: on equal times buys come before sells, sells before close markers
# (history markers before positions-table markers, R6).
RANK_BUY, RANK_SELL, RANK_HISTORY_MARKER, RANK_POSITIONS_MARKER = 1, 2, 3, 4


class Invalid(ValueError):
    """A raw value the rules cannot read: the row is quarantined (R6), not used."""


# --------------------------------------------------------------------------
# Rule parameters: the vars of dbt_project.yml
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Params:
    series_suffixes: frozenset[str]
    default_trade_mode: str
    exit_attach_hours: float
    trade_match_minutes: float
    reentry_match_minutes: float
    daily_reentry_cap: int
    charge_pct: float
    naive_utc_from: Optional[dt.datetime]
    naive_utc_until: Optional[dt.datetime]
    market_time_zone: ZoneInfo


def load_params(project_file: Path = PROJECT / "dbt_project.yml", **overrides: Any) -> Params:
    """The rule parameters, from `vars` in dbt_project.yml (overrides: for tests)."""
    vars_ = dict(yaml.safe_load(project_file.read_text(encoding="utf-8"))["vars"])
    vars_.update(overrides)

    def naive(value: Any) -> Optional[dt.datetime]:
        return dt.datetime.fromisoformat(str(value)) if value not in (None, "") else None

    return Params(
        series_suffixes=frozenset(str(s).upper() for s in vars_["series_suffixes"]),
        default_trade_mode=str(vars_["default_trade_mode"]),
        exit_attach_hours=float(vars_["exit_attach_hours"]),
        trade_match_minutes=float(vars_["trade_match_minutes"]),
        reentry_match_minutes=float(vars_["reentry_match_minutes"]),
        daily_reentry_cap=int(vars_["daily_reentry_cap"]),
        charge_pct=float(vars_["charge_pct"]),
        naive_utc_from=naive(vars_.get("naive_utc_from")),
        naive_utc_until=naive(vars_.get("naive_utc_until")),
        market_time_zone=ZoneInfo(str(vars_["market_time_zone"])),
    )


# --------------------------------------------------------------------------
# Raw values
# --------------------------------------------------------------------------


def is_null(value: Any) -> bool:
    """CSV: an empty field is NULL."""
    return value is None or (isinstance(value, str) and value.strip() == "")


def to_decimal(value: Any) -> Optional[Decimal]:
    if is_null(value):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise Invalid(f"not a number: {value!r}") from exc
    if not number.is_finite():
        raise Invalid(f"not a number: {value!r}")
    return number


def to_float(value: Any) -> Optional[float]:
    number = to_decimal(value)
    return None if number is None else float(number)


def to_int(value: Any) -> Optional[int]:
    number = to_decimal(value)
    if number is None:
        return None
    if number != number.to_integral_value():
        raise Invalid(f"not an integer: {value!r}")
    return int(number)


def to_text(value: Any) -> Optional[str]:
    return None if is_null(value) else str(value)


def wall_clock(value: Any) -> tuple[dt.datetime, bool]:
    """(the timestamp as written, whether it carries an offset)."""
    if isinstance(value, dt.datetime):
        stamp = value
    else:
        try:
            stamp = dt.datetime.fromisoformat(str(value).strip())
        except ValueError as exc:
            raise Invalid(f"unparseable timestamp: {value!r}") from exc
    return stamp, stamp.tzinfo is not None


def instant(value: Any, params: Params, naive_is_utc: bool = False) -> Optional[dt.datetime]:
    """R1.7: an instant (UTC). Values with an offset mean what they say; naive values are
    wall clock in var market_time_zone, or UTC inside the naive-UTC window (R6)."""
    if is_null(value):
        return None
    stamp, aware = wall_clock(value)
    if not aware:
        stamp = stamp.replace(tzinfo=dt.timezone.utc if naive_is_utc else params.market_time_zone)
    return stamp.astimezone(dt.timezone.utc)


def market_date(at: dt.datetime, params: Params) -> dt.date:
    """R1.7: trading-day logic uses the India calendar date."""
    return at.astimezone(params.market_time_zone).date()


def in_naive_utc_window(placed_at: Any, params: Params) -> bool:
    """R6: an order row was written in [naive_utc_from, naive_utc_until) when its naive
    `placed_at` (the write time every row has) falls in it. Choice (DECISIONS.md): the
    window is decided by `placed_at`, and then every naive timestamp of the row is UTC."""
    if params.naive_utc_from is None or params.naive_utc_until is None or is_null(placed_at):
        return False
    stamp, aware = wall_clock(placed_at)
    return not aware and params.naive_utc_from <= stamp < params.naive_utc_until


def base_symbol(symbol: str, params: Params) -> str:
    """R1.1: upper-case and trim; drop `.NS`/`.BO`; drop one `-<series>` in series_suffixes."""
    text = symbol.strip().upper()
    for exchange in (".NS", ".BO"):
        if text.endswith(exchange):
            text = text[: -len(exchange)]
            break
    head, dash, series = text.rpartition("-")
    if dash and head and series in params.series_suffixes:
        text = head
    return text


def read_table(path: Path) -> list[dict[str, Any]]:
    """The rows of one CSV (RFC 4180, header row) or Parquet export, as dicts."""
    if path.suffix == ".csv":
        with open(path, newline="", encoding="utf-8") as handle:
            return list(csv.DictReader(handle))
    con = duckdb.connect()
    try:
        con.execute("set TimeZone = 'UTC'")
        rel = con.sql(f"select * from read_parquet('{path}')")
        return [dict(zip(rel.columns, row)) for row in rel.fetchall()]
    finally:
        con.close()


def export_files(folder: Path) -> list[Path]:
    """R1.8 precision: files in lexical order of their name, CSV and Parquet together."""
    if not folder.is_dir():
        return []
    return sorted((p for p in folder.iterdir() if p.suffix in (".csv", ".parquet")),
                  key=lambda p: p.name)


# --------------------------------------------------------------------------
# R1 Normalising orders
# --------------------------------------------------------------------------


@dataclass
class Order:
    id: int
    user_id: int
    symbol: str
    base_symbol: str
    trade_mode: str
    side: str
    status: str
    quantity: Decimal
    filled_qty: Decimal
    fill_price: Optional[float]
    filled_at: Optional[dt.datetime]  # R1.5; None when not executed
    placed_at: dt.datetime
    updated_at: Optional[dt.datetime]
    is_manual: bool
    order_id: Optional[str]
    broker_order_id: Optional[str]
    recorded_entry_type: Optional[str]
    metadata: dict[str, Any]
    source_file: str

    @property
    def is_executed(self) -> bool:
        """R1.3: executed when its filled quantity is > 0."""
        return self.filled_qty > 0

    @property
    def book(self) -> tuple[int, str, str]:
        return (self.user_id, self.base_symbol, self.trade_mode)


def filled_quantity(status: str, quantity: Decimal, execution_qty: Optional[Decimal]) -> Decimal:
    """R1.3."""
    if execution_qty is not None and execution_qty > 0:
        return execution_qty
    if status in ("ongoing", "closed") and execution_qty is None:
        return quantity
    return ZERO


def fill_price(row: dict[str, Any]) -> Optional[float]:
    """R1.4: the first of execution_price, avg_price, price that is > 0."""
    for column in ("execution_price", "avg_price", "price"):
        value = to_float(row.get(column))
        if value is not None and value > 0:
            return value
    return None


def trade_mode(value: Any, params: Params) -> str:
    """R1.6: lower-cased; NULL is var default_trade_mode."""
    return params.default_trade_mode if is_null(value) else str(value).lower()


def normalise_order(row: dict[str, Any], source_file: str, params: Params) -> Order:
    """R1.1-R1.7 on one raw order row; raises Invalid for a row R6 quarantines."""
    for required in ("id", "user_id", "symbol", "placed_at"):
        if is_null(row.get(required)):
            raise Invalid(f"missing {required}")
    side = str(row.get("side") or "").strip().lower()
    if side not in SIDES:
        raise Invalid("unknown side")
    status = STATUS.get(str(row.get("status") or "").strip().lower())
    if status is None:
        raise Invalid("unknown status")
    quantity = to_decimal(row.get("quantity"))
    if quantity is None or quantity <= 0:
        raise Invalid("non-positive quantity")
    metadata_text = row.get("metadata")
    try:
        metadata = json.loads(metadata_text) if not is_null(metadata_text) else {}
    except (TypeError, ValueError) as exc:
        raise Invalid("bad metadata JSON") from exc
    if not isinstance(metadata, dict):
        metadata = {}
    naive_utc = in_naive_utc_window(row["placed_at"], params)

    def at(column: str) -> Optional[dt.datetime]:
        return instant(row.get(column), params, naive_utc)

    placed_at = at("placed_at")
    updated_at, execution_time, filled_at = at("updated_at"), at("execution_time"), at("filled_at")
    at("closed_at")  # validated only
    filled = filled_quantity(status, quantity, to_decimal(row.get("execution_qty")))
    price = fill_price(row)
    assert placed_at is not None
    return Order(
        id=to_int(row["id"]), user_id=to_int(row["user_id"]),  # type: ignore[arg-type]
        symbol=str(row["symbol"]), base_symbol=base_symbol(str(row["symbol"]), params),
        trade_mode=trade_mode(row.get("trade_mode"), params), side=side, status=status,
        quantity=quantity, filled_qty=filled,
        fill_price=price if filled > 0 else None,
        filled_at=(execution_time or filled_at or placed_at) if filled > 0 else None,
        placed_at=placed_at, updated_at=updated_at,
        is_manual=str(row.get("orig_source") or "").strip().lower() == "manual",
        order_id=to_text(row.get("order_id")), broker_order_id=to_text(row.get("broker_order_id")),
        recorded_entry_type=to_text(row.get("entry_type")), metadata=metadata,
        source_file=source_file,
    )


def order_versions(raw: Path, params: Params) -> Iterator[tuple[tuple[Any, ...], Order]]:
    """Every valid order version with its R1.8 rank key (bigger wins)."""
    for file_index, path in enumerate(export_files(raw / "orders")):
        for row_index, row in enumerate(read_table(path)):
            try:
                order = normalise_order(row, path.name, params)
            except Invalid:
                continue  # R6: quarantined rows do not compete
            has_update = order.updated_at is not None
            updated = order.updated_at or dt.datetime.min.replace(tzinfo=dt.timezone.utc)
            yield (has_update, updated, file_index, row_index), order


def read_orders(raw: Path, params: Params) -> dict[int, Order]:
    """R1.8: the newest valid version of each order id (greatest updated_at, a version with
    one beats one without; then the later file name; then the later row)."""
    best: dict[int, tuple[tuple[Any, ...], Order]] = {}
    for key, order in order_versions(raw, params):
        if order.id not in best or key > best[order.id][0]:
            best[order.id] = (key, order)
    return {order_id: order for order_id, (_, order) in sorted(best.items())}


# --------------------------------------------------------------------------
# History trades and R4.1 attribution
# --------------------------------------------------------------------------


@dataclass
class HistoryTrade:
    file: str  # path relative to trade_history/
    index: int  # position in the file's trades array
    file_user: Optional[int]  # from a user_<id>/ folder
    base_symbol: str
    status: Optional[str]
    entry_at: Optional[dt.datetime]
    exit_at: Optional[dt.datetime]
    exit_price: Optional[float]
    exit_reason: Optional[str]
    qty: Optional[Decimal]
    reentry_qty: Decimal
    order_ids: tuple[str, ...]
    data: dict[str, Any]
    items: list[dict[str, Any]]
    user_id: Optional[int] = None  # R4.1

    @property
    def initial_qty(self) -> Optional[Decimal]:
        """R4.1 rule 3: its qty minus the qty of its reentry items."""
        return None if self.qty is None else self.qty - self.reentry_qty

    @property
    def is_close_marker(self) -> bool:
        """R2: status closed with an exit_time."""
        return self.status == "closed" and self.exit_at is not None


def history_files(raw: Path) -> list[tuple[Optional[int], Path]]:
    """The shared file first, then user_<id>/ files (rule 1 gives their user)."""
    folder = raw / "trade_history"
    files: list[tuple[Optional[int], Path]] = []
    if (folder / "trades_history.json").exists():
        files.append((None, folder / "trades_history.json"))
    for sub in sorted(folder.glob("user_*")):
        if (sub / "trades_history.json").exists():
            files.append((int(sub.name.split("_", 1)[1]), sub / "trades_history.json"))
    return files


def item_qty(item: dict[str, Any]) -> Decimal:
    """A reentry item's qty; a missing or unreadable one (the item is quarantined, R6)
    takes nothing off the trade's initial quantity."""
    try:
        return to_decimal(item.get("qty")) or ZERO
    except Invalid:
        return ZERO


def normalise_trade(data: dict[str, Any], file: str, index: int, file_user: Optional[int],
                    params: Params) -> HistoryTrade:
    if is_null(data.get("symbol")):
        raise Invalid("history trade without symbol")
    items = data.get("reentries") or []
    ids = tuple(str(data[k]) for k in ("order_id", "buy_order_id") if not is_null(data.get(k)))
    return HistoryTrade(
        file=file, index=index, file_user=file_user,
        base_symbol=base_symbol(str(data["symbol"]), params),
        status=None if is_null(data.get("status")) else str(data["status"]).strip().lower(),
        entry_at=instant(data.get("entry_time"), params),
        exit_at=instant(data.get("exit_time"), params),
        exit_price=to_float(data.get("exit_price")),
        exit_reason=to_text(data.get("exit_reason")),
        qty=to_decimal(data.get("qty")),
        reentry_qty=sum((item_qty(i) for i in items if isinstance(i, dict)), ZERO),
        order_ids=ids, data=data, items=[i for i in items if isinstance(i, dict)],
    )


def read_history_trades(raw: Path, params: Params) -> list[HistoryTrade]:
    trades = []
    for file_user, path in history_files(raw):
        doc = json.loads(path.read_text(encoding="utf-8"))
        rel = str(path.relative_to(raw / "trade_history"))
        for index, data in enumerate(doc.get("trades", [])):
            try:
                trades.append(normalise_trade(data, rel, index, file_user, params))
            except Invalid:
                continue  # R6: quarantined
    return trades


def attribute_trades(trades: list[HistoryTrade], orders: dict[int, Order],
                     params: Params) -> None:
    """R4.1: sets `user_id` on every trade that can be attributed (first answer wins)."""
    users_by_broker_id: dict[str, set[int]] = defaultdict(set)
    buys_by_symbol: dict[str, list[Order]] = defaultdict(list)
    for order in orders.values():
        for ref in (order.order_id, order.broker_order_id):
            if ref is not None:
                users_by_broker_id[ref].add(order.user_id)
        if order.side == "buy" and order.is_executed:
            buys_by_symbol[order.base_symbol].append(order)
    for trade in trades:
        user = trade.file_user  # rule 1
        if user is None:
            user = attribution_by_order_id(trade, users_by_broker_id)
        if user is None:
            user = attribution_by_nearby_buy(trade, buys_by_symbol, params)
        trade.user_id = user


def attribution_by_order_id(trade: HistoryTrade, users_by_broker_id: dict[str, set[int]]
                            ) -> Optional[int]:
    """R4.1 rule 2: its order_id / buy_order_id is an order's order_id / broker_order_id.
    Choice (DECISIONS.md): the matching orders must name exactly one user."""
    users: set[int] = set()
    for ref in trade.order_ids:
        users |= users_by_broker_id.get(ref, set())
    return next(iter(users)) if len(users) == 1 else None


def attribution_by_nearby_buy(trade: HistoryTrade, buys_by_symbol: dict[str, list[Order]],
                              params: Params) -> Optional[int]:
    """R4.1 rule 3: users with an executed buy of the symbol filled within
    trade_match_minutes (inclusive) of entry_time; several: those whose buy's filled
    quantity equals the trade's initial quantity."""
    if trade.entry_at is None:
        return None
    window = dt.timedelta(minutes=params.trade_match_minutes)
    near = [o for o in buys_by_symbol.get(trade.base_symbol, [])
            if abs(o.filled_at - trade.entry_at) <= window]  # type: ignore[operator]
    users = {o.user_id for o in near}
    if len(users) == 1:
        return users.pop()
    same_qty = {o.user_id for o in near if o.filled_qty == trade.initial_qty}
    return same_qty.pop() if len(same_qty) == 1 else None


# --------------------------------------------------------------------------
# R6 positions-table close markers
# --------------------------------------------------------------------------


@dataclass
class PositionsMarker:
    user_id: int
    base_symbol: str
    closed_at: dt.datetime
    exit_price: Optional[float]
    exit_reason: Optional[str]


def read_positions_markers(raw: Path, params: Params) -> list[PositionsMarker]:
    """R6: every distinct (user, base symbol, closed_at) of a valid positions row is a close
    marker. Choice (DECISIONS.md): several rows closing at one instant give one marker with
    the greatest exit_price and exit_reason."""
    grouped: dict[tuple[int, str, dt.datetime], list[dict[str, Any]]] = defaultdict(list)
    for path in export_files(raw / "positions"):
        for row in read_table(path):
            try:
                if any(is_null(row.get(c)) for c in ("id", "user_id", "symbol")):
                    raise Invalid("missing id / user_id / symbol")
                to_int(row["id"])
                instant(row.get("opened_at"), params)
                closed_at = instant(row.get("closed_at"), params)
                if closed_at is None:
                    continue
                key = (to_int(row["user_id"]), base_symbol(str(row["symbol"]), params), closed_at)
            except Invalid:
                continue
            grouped[key].append(row)  # type: ignore[index]
    markers = []
    for (user, base, closed_at), rows in sorted(grouped.items()):
        prices = [p for p in (to_float(r.get("exit_price")) for r in rows) if p is not None]
        reasons = [r for r in (to_text(r.get("exit_reason")) for r in rows) if r is not None]
        markers.append(PositionsMarker(user, base, closed_at, max(prices, default=None),
                                       max(reasons, default=None)))
    return markers


# --------------------------------------------------------------------------
# R2 / R3 The walk of each book
# --------------------------------------------------------------------------


@dataclass
class Marker:
    """A close marker (R2 history trade, R6 positions row) in one book's walk."""
    at: dt.datetime
    source: str  # 'trade_history' or 'positions_table'
    exit_price: Optional[float]
    exit_reason: Optional[str]
    sort_key: tuple[Any, ...]


@dataclass
class TypedOrder:
    """R2/R3 for one order."""
    entry_type: str
    cycle_number: Optional[int]
    oversold_qty: Decimal = ZERO
    sold_qty: Decimal = ZERO  # what a sell took out of the holding
    is_attached_exit: bool = False
    is_orphan_exit: bool = False
    opens_cycle: bool = False
    parent_order_id: Optional[int] = None


@dataclass
class Cycle:
    """One position cycle (R2) and the events that changed its holding, in walk order:
    ('buy', order, qty), ('sell', order, sold qty) and ('marker', marker, closed qty)."""
    book: tuple[int, str, str]
    number: int
    opening: Order
    events: list[tuple[str, Any, Decimal]] = field(default_factory=list)
    orders: list[Order] = field(default_factory=list)  # every order carrying the cycle
    closed_at: Optional[dt.datetime] = None
    close_source: Optional[str] = None
    exit_reason: Optional[str] = None  # R8.5, raw

    @property
    def key(self) -> tuple[int, str, str, int]:
        return self.book + (self.number,)


def event_sort_key(event: Order | Marker) -> tuple[Any, ...]:
    """R2: time order; on equal times buys, sells, history markers, positions markers,
    then order id. Precision: an unexecuted order sits at its placed_at."""
    if isinstance(event, Marker):
        rank = RANK_HISTORY_MARKER if event.source == "trade_history" else RANK_POSITIONS_MARKER
        return (event.at, rank, 0, event.sort_key)
    at = event.filled_at if event.is_executed else event.placed_at
    return (at, RANK_BUY if event.side == "buy" else RANK_SELL, event.id, ())


def walk_book(book: tuple[int, str, str], events: list[Order | Marker], params: Params
              ) -> tuple[dict[int, TypedOrder], list[Cycle]]:
    """R2 and R3 on one book: held quantity, cycles, each order's entry type and cycle."""
    attach = dt.timedelta(hours=params.exit_attach_hours)
    typed: dict[int, TypedOrder] = {}
    cycles: list[Cycle] = []
    held = ZERO
    current: Optional[Cycle] = None  # the open cycle

    def close(cycle: Cycle, at: dt.datetime, source: str, reason: Optional[str]) -> None:
        cycle.closed_at, cycle.close_source, cycle.exit_reason = at, source, reason

    for event in sorted(events, key=event_sort_key):
        if isinstance(event, Marker):
            if held > 0 and current is not None:
                current.events.append(("marker", event, held))
                close(current, event.at, event.source, event.exit_reason)
                held, current = ZERO, None
            continue
        order = event
        if not order.is_executed:  # R3: typed by the state at placed_at, changes nothing
            if order.side == "sell":
                entry_type = "exit"
            elif order.is_manual:
                entry_type = "manual"
            else:
                entry_type = "reentry" if current is not None else "initial"
            typed[order.id] = TypedOrder(entry_type, current.number if current else None)
            if current is not None:
                current.orders.append(order)
            continue
        if order.side == "buy":
            opens = current is None
            if opens:
                current = Cycle(book, len(cycles) + 1, order)
                cycles.append(current)
            assert current is not None
            entry_type = "manual" if order.is_manual else ("initial" if opens else "reentry")
            typed[order.id] = TypedOrder(entry_type, current.number, opens_cycle=opens)
            current.events.append(("buy", order, order.filled_qty))
            current.orders.append(order)
            held += order.filled_qty
            continue
        # an executed sell
        if current is not None:
            sold = min(order.filled_qty, held)
            typed[order.id] = TypedOrder("exit", current.number, sold_qty=sold,
                                         oversold_qty=order.filled_qty - sold)
            current.events.append(("sell", order, sold))
            current.orders.append(order)
            held -= sold
            if held == 0:
                close(current, order.filled_at, "sell",  # type: ignore[arg-type]
                      order.metadata.get("exit_reason"))
                current = None
            continue
        latest = cycles[-1] if cycles else None
        if (latest is not None and latest.close_source in ("trade_history", "positions_table")
                and order.filled_at - latest.closed_at < attach):  # type: ignore[operator]
            # R2 precision: attached, strictly within exit_attach_hours; changes no quantity
            typed[order.id] = TypedOrder("exit", latest.number, oversold_qty=order.filled_qty,
                                         is_attached_exit=True)
            latest.orders.append(order)
        else:
            typed[order.id] = TypedOrder("exit", None, oversold_qty=order.filled_qty,
                                         is_orphan_exit=True)
    for cycle in cycles:  # R3: parent_order_id = the opening buy's id
        for order in cycle.orders:
            typed[order.id].parent_order_id = cycle.opening.id
    return typed, cycles


# --------------------------------------------------------------------------
# R4.2-R4.4 Reentry detail
# --------------------------------------------------------------------------


@dataclass
class HistoryItem:
    """One reentry item of an attributed history trade (R4.2: after de-duplication)."""
    id: str  # <file>#<trade position>#<item position>, both 1-based (the loader's id)
    user_id: int
    base_symbol: str
    at: dt.datetime  # its `time`
    qty: Optional[Decimal]
    level: Optional[float]
    rsi: Optional[float]
    price: Optional[float]
    order_id: Optional[str]
    position: tuple[str, int, int]  # file, trade position, item position


def history_items(trades: list[HistoryTrade], params: Params) -> list[HistoryItem]:
    """The reentry items of attributed trades, valid ones only (R6: an item without a
    readable `time`, or with a non-numeric qty / level / rsi / price, is quarantined)."""
    items = []
    for trade in trades:
        if trade.user_id is None:
            continue  # R4.1: unattributed trades are used for nothing user-specific
        for position, raw in enumerate(trade.items, start=1):
            try:
                at = instant(raw.get("time"), params)
                if at is None:
                    raise Invalid("missing time")
                items.append(HistoryItem(
                    id=f"exports:trade_history/{trade.file}#{trade.index + 1}#{position}",
                    user_id=trade.user_id, base_symbol=trade.base_symbol, at=at,
                    qty=to_decimal(raw.get("qty")), level=to_float(raw.get("level")),
                    rsi=to_float(raw.get("rsi")), price=to_float(raw.get("price")),
                    order_id=to_text(raw.get("order_id")),
                    position=(trade.file, trade.index, position)))
            except Invalid:
                continue
    return items


def deduplicate_items(items: list[HistoryItem]) -> list[HistoryItem]:
    """R4.2: one item per (user, base symbol, time, qty, level); the app copied each item
    into every open trade of the symbol. Choice (DECISIONS.md): the first copy by file,
    trade position, item position is kept."""
    kept: dict[tuple[Any, ...], HistoryItem] = {}
    for item in sorted(items, key=lambda i: i.position):
        kept.setdefault((item.user_id, item.base_symbol, item.at, item.qty, item.level), item)
    return list(kept.values())


@dataclass
class ReentryDetail:
    """R4.3 / R4.4 for one reentry-typed order."""
    history_item_id: Optional[str] = None
    match_method: Optional[str] = None  # 'order_id', 'time' or None
    level: Optional[float] = None
    rsi: Optional[float] = None
    decision_close: Optional[float] = None
    reentry_number: Optional[int] = None


def first_present(metadata: dict[str, Any], keys: tuple[str, ...]) -> Optional[float]:
    for key in keys:
        value = metadata.get(key)
        if not is_null(value):
            try:
                return to_float(value)
            except Invalid:
                return None
    return None


def greedy_pairs(candidates: list[tuple[tuple[Any, ...], int, str]],
                 taken_orders: set[int], taken_items: set[str]) -> list[tuple[int, str]]:
    """Pairs (order id, item id) taken greedily in the order of their sort key, each order
    and each item at most once."""
    pairs = []
    for _, order_id, item_id in sorted(candidates):
        if order_id not in taken_orders and item_id not in taken_items:
            taken_orders.add(order_id)
            taken_items.add(item_id)
            pairs.append((order_id, item_id))
    return pairs


def match_reentries(orders: list[Order], items: list[HistoryItem], params: Params
                    ) -> dict[int, tuple[HistoryItem, str]]:
    """R4.3: each reentry-typed order (executed or not) to at most one history item of the
    same user and base symbol: first the item whose order_id is the order's order_id or
    broker_order_id, then the nearest `time` to placed_at within reentry_match_minutes
    (inclusive), equal quantity preferred; greedy by (time distance, quantity differs,
    order id, item id)."""
    by_pair: dict[tuple[int, str], list[HistoryItem]] = defaultdict(list)
    for item in items:
        by_pair[(item.user_id, item.base_symbol)].append(item)
    item_by_id = {item.id: item for item in items}
    window = params.reentry_match_minutes * 60

    def key(order: Order, item: HistoryItem) -> tuple[Any, ...]:
        distance = abs((item.at - order.placed_at).total_seconds())
        return (distance, item.qty != order.quantity, order.id, item.id)

    by_id, by_time = [], []
    for order in orders:
        refs = {r for r in (order.order_id, order.broker_order_id) if r is not None}
        for item in by_pair.get((order.user_id, order.base_symbol), []):
            if item.order_id is not None and item.order_id in refs:
                by_id.append((key(order, item), order.id, item.id))
            elif abs((item.at - order.placed_at).total_seconds()) <= window:
                by_time.append((key(order, item), order.id, item.id))
    taken_orders: set[int] = set()
    taken_items: set[str] = set()
    matched: dict[int, tuple[HistoryItem, str]] = {}
    for method, candidates in (("order_id", by_id), ("time", by_time)):
        for order_id, item_id in greedy_pairs(candidates, taken_orders, taken_items):
            matched[order_id] = (item_by_id[item_id], method)
    return matched


def reentry_details(orders: dict[int, Order], typed: dict[int, TypedOrder],
                    items: list[HistoryItem], params: Params) -> dict[int, ReentryDetail]:
    """R4.3 (level, RSI and decision close: metadata first, each field on its own, else the
    matched item) and R4.4 (executed reentries numbered per cycle by fill time, then id)."""
    reentry_orders = [o for o in orders.values() if typed[o.id].entry_type == "reentry"]
    matched = match_reentries(reentry_orders, items, params)
    details = {}
    for order in reentry_orders:
        item, method = matched.get(order.id, (None, None))
        meta = order.metadata
        level = first_present(meta, ("rsi_level", "reentry_level", "level"))
        rsi = first_present(meta, ("rsi", "rsi10", "rsi_value"))
        close = first_present(meta, ("price",))
        details[order.id] = ReentryDetail(
            history_item_id=item.id if item else None, match_method=method,
            level=level if level is not None else (item.level if item else None),
            rsi=rsi if rsi is not None else (item.rsi if item else None),
            decision_close=close if close is not None else (item.price if item else None))
    per_cycle: dict[tuple[Any, ...], list[Order]] = defaultdict(list)
    for order in reentry_orders:
        if order.is_executed:
            per_cycle[order.book + (typed[order.id].cycle_number,)].append(order)
    for cycle_orders in per_cycle.values():
        for number, order in enumerate(sorted(cycle_orders, key=lambda o: (o.filled_at, o.id)), 1):
            details[order.id].reentry_number = number
    return details


# --------------------------------------------------------------------------
# R7 Daily reentry activity
# --------------------------------------------------------------------------


@dataclass
class DailyReentries:
    user_id: int
    base_symbol: str
    trade_mode: str
    trading_date: dt.date
    executed_reentries: int = 0
    attempted_reentries: int = 0
    distinct_levels: int = 0
    is_over_cap: bool = False
    has_repeated_level: bool = False


def daily_reentries(orders: dict[int, Order], details: dict[int, ReentryDetail],
                    params: Params) -> dict[tuple[int, str, str, dt.date], DailyReentries]:
    """R7: per (book, India date of placed_at) with any reentry-typed order: executed and
    attempted reentries, distinct levels of the executed ones, over the daily cap, and
    a level executed twice that day."""
    days: dict[tuple[int, str, str, dt.date], DailyReentries] = {}
    levels: dict[tuple[int, str, str, dt.date], list[float]] = defaultdict(list)
    for order_id, detail in details.items():
        order = orders[order_id]
        key = order.book + (market_date(order.placed_at, params),)
        day = days.setdefault(key, DailyReentries(*key))
        day.attempted_reentries += 1
        if order.is_executed:
            day.executed_reentries += 1
            if detail.level is not None:
                levels[key].append(detail.level)
    for key, day in days.items():
        day.distinct_levels = len(set(levels[key]))
        day.is_over_cap = day.executed_reentries > params.daily_reentry_cap
        day.has_repeated_level = len(set(levels[key])) < len(levels[key])
    return days


# --------------------------------------------------------------------------
# R5 / R8.1-R8.5 Position metrics
# --------------------------------------------------------------------------


def charges(order: Order, params: Params) -> float:
    """R8.4: filled_qty * fill_price * charge_pct / 100 for an executed order; an unknown
    price, or an order that never executed, costs 0."""
    if not order.is_executed or order.fill_price is None:
        return 0.0
    return float(order.filled_qty) * order.fill_price * params.charge_pct / 100


@dataclass
class CostedEvent:
    """One holding event of a cycle after R5's running average."""
    kind: str
    at: dt.datetime
    qty: Decimal  # bought, sold or marker-closed quantity
    price: Optional[float]
    held_after: Decimal
    avg_after: Optional[float]
    realized_pnl: Optional[float]  # sells and markers; None when a price is unknown


def cost_events(cycle: Cycle) -> list[CostedEvent]:
    """R5: the app's running average `(q0*a0 + q*p) / (q0 + q)` on each buy (q0 held just
    before it; an unpriced buy adds quantity only; the first priced buy sets it), and each
    sell's / marker's realized P&L at the average of that moment."""
    held, avg = ZERO, None
    costed = []
    for kind, item, qty in cycle.events:
        pnl: Optional[float] = None
        if kind == "buy":
            price, at = item.fill_price, item.filled_at
            if price is not None:
                avg = price if avg is None else (float(held) * avg + float(qty) * price) / float(held + qty)
            held += qty
        else:
            price = item.fill_price if kind == "sell" else item.exit_price
            at = item.filled_at if kind == "sell" else item.at
            if qty > 0 and price is not None and avg is not None:
                pnl = (price - avg) * float(qty)
            elif qty == 0:
                pnl = 0.0
            held -= qty
        costed.append(CostedEvent(kind, at, qty, price, held, avg, pnl))
    return costed


@dataclass
class Position:
    """One fct_positions row (R5 and R8)."""
    user_id: int
    base_symbol: str
    trade_mode: str
    cycle_number: int
    initial_order_id: int
    status: str
    close_source: Optional[str]
    initial_entry_price: Optional[float]
    initial_qty: Decimal
    reentry_count: int
    total_reentry_qty: Decimal
    avg_reentry_price: Optional[float]
    last_reentry_price: Optional[float]
    reentry_discount_pct: Optional[float]
    avg_entry_price: Optional[float]
    total_bought_qty: Decimal
    total_sold_qty: Decimal
    marker_closed_qty: Decimal
    held_qty: Decimal
    realized_pnl: float
    realized_pnl_pct: Optional[float]
    holding_days: Optional[int]
    max_level_reached: Optional[float]
    exit_vwap: Optional[float]
    pnl_without_reentries: Optional[float]
    reentry_pnl: Optional[float]
    peak_cost_basis: Optional[float]
    return_on_peak_capital_pct: Optional[float]
    charges: Optional[float]
    net_realized_pnl: Optional[float]
    exit_reason: Optional[str]
    opened_at: dt.datetime
    closed_at: Optional[dt.datetime]


def ratio(numerator: Optional[float], denominator: Optional[float]) -> Optional[float]:
    if numerator is None or denominator is None or denominator == 0:
        return None
    return numerator / denominator


def realized_pnl(costed: list[CostedEvent]) -> float:
    """R5: the sum over the cycle's sells (and a closing marker) of their P&L. Choice: a
    sell whose price is unknown (or sold before any priced buy) has no P&L and adds 0,
    as a SQL sum does; an open cycle without sells has 0."""
    return sum((e.realized_pnl or 0.0) for e in costed if e.kind != "buy")


def exit_vwap(costed: list[CostedEvent]) -> Optional[float]:
    """R8.1: over what each sell / the marker took out of the holding, at its price;
    NULL when one of those prices is unknown."""
    exits = [e for e in costed if e.kind != "buy" and e.qty > 0]
    if not exits or any(e.price is None for e in exits):
        return None
    qty = sum((e.qty for e in exits), ZERO)
    return sum(float(e.qty) * e.price for e in exits) / float(qty)  # type: ignore[operator]


def peak_cost_basis(costed: list[CostedEvent]) -> Optional[float]:
    """R8.3: the largest held quantity * running average after an event."""
    values = [float(e.held_after) * e.avg_after for e in costed if e.avg_after is not None]
    return max(values, default=None)


def exit_reason(raw: Optional[Any]) -> Optional[str]:
    """R8.5: upper-case, trimmed; empty is NULL."""
    if raw is None:
        return None
    text = str(raw).strip().upper()
    return text or None


def position_metrics(cycle: Cycle, typed: dict[int, TypedOrder], params: Params,
                     details: Optional[dict[int, ReentryDetail]] = None) -> Position:
    """R5 and R8.1-R8.5 for one cycle; R8 columns are NULL while it is open."""
    costed = cost_events(cycle)
    opening = cycle.opening
    reentries = sorted((o for kind, o, _ in cycle.events
                        if kind == "buy" and typed[o.id].entry_type == "reentry"),
                       key=lambda o: (o.filled_at, o.id))  # R4.4 order
    priced = [o for o in reentries if o.fill_price is not None]
    avg_reentry = ratio(sum(float(o.filled_qty) * o.fill_price for o in priced),  # type: ignore[misc]
                        float(sum((o.filled_qty for o in priced), ZERO))) if priced else None
    bought = sum((q for kind, _, q in cycle.events if kind == "buy"), ZERO)
    sold = sum((q for kind, _, q in cycle.events if kind == "sell"), ZERO)
    marker_qty = sum((q for kind, _, q in cycle.events if kind == "marker"), ZERO)
    last = costed[-1]
    pnl = realized_pnl(costed)
    closed = cycle.closed_at is not None
    vwap = exit_vwap(costed) if closed else None
    without = (None if vwap is None or opening.fill_price is None
               else (vwap - opening.fill_price) * float(opening.filled_qty))
    peak = peak_cost_basis(costed) if closed else None
    cycle_charges = sum(charges(o, params) for o in cycle.orders) if closed else None
    # R5: the deepest level reached is the lowest level number (30, 20, 10) reentered at
    levels = [details[o.id].level for o in reentries
              if details is not None and details[o.id].level is not None]
    return Position(
        user_id=cycle.book[0], base_symbol=cycle.book[1], trade_mode=cycle.book[2],
        cycle_number=cycle.number, initial_order_id=opening.id,
        status="closed" if closed else "open", close_source=cycle.close_source,
        initial_entry_price=opening.fill_price, initial_qty=opening.filled_qty,
        reentry_count=len(reentries),
        total_reentry_qty=sum((o.filled_qty for o in reentries), ZERO),
        avg_reentry_price=avg_reentry,
        last_reentry_price=priced[-1].fill_price if priced else None,
        reentry_discount_pct=(None if avg_reentry is None or opening.fill_price is None
                              else (avg_reentry / opening.fill_price - 1) * 100),
        avg_entry_price=last.avg_after,
        total_bought_qty=bought, total_sold_qty=sold, marker_closed_qty=marker_qty,
        held_qty=last.held_after,
        realized_pnl=pnl,
        realized_pnl_pct=ratio(pnl * 100, None if last.avg_after is None
                               else last.avg_after * float(bought)),
        holding_days=((market_date(cycle.closed_at, params)  # type: ignore[arg-type]
                       - market_date(opening.filled_at, params)).days  # type: ignore[arg-type]
                      if closed else None),
        max_level_reached=min(levels, default=None),
        exit_vwap=vwap,
        pnl_without_reentries=without,
        reentry_pnl=None if without is None else pnl - without,
        peak_cost_basis=peak,
        return_on_peak_capital_pct=ratio(pnl * 100, peak) if closed else None,
        charges=cycle_charges,
        net_realized_pnl=None if cycle_charges is None else pnl - cycle_charges,
        exit_reason=exit_reason(cycle.exit_reason) if closed else None,
        opened_at=opening.filled_at,  # type: ignore[arg-type]
        closed_at=cycle.closed_at,
    )


# --------------------------------------------------------------------------
# R8.6 Daily P&L
# --------------------------------------------------------------------------


@dataclass
class DailyPnl:
    user_id: int
    trade_mode: str
    trading_date: dt.date
    realized_pnl: float = 0.0
    charges: float = 0.0
    net_pnl: float = 0.0
    cumulative_realized_pnl: float = 0.0
    cumulative_net_pnl: float = 0.0
    drawdown: float = 0.0


def daily_pnl(orders: dict[int, Order], cycles: list[Cycle], params: Params
              ) -> dict[tuple[int, str, dt.date], DailyPnl]:
    """R8.6: per (user, trade mode, India date) with an executed order or a marker close:
    realized P&L of sells (fill date) and closing markers (marker date), charges of every
    executed order (fill date), cumulative figures and drawdown from a running max of 0."""
    days: dict[tuple[int, str, dt.date], DailyPnl] = {}

    def day(user: int, mode: str, at: dt.datetime) -> DailyPnl:
        key = (user, mode, market_date(at, params))
        if key not in days:
            days[key] = DailyPnl(*key)
        return days[key]

    for order in orders.values():
        if order.is_executed:
            day(order.user_id, order.trade_mode, order.filled_at).charges += charges(order, params)  # type: ignore[arg-type]
    for cycle in cycles:
        for event in cost_events(cycle):
            if event.kind != "buy":
                day(cycle.book[0], cycle.book[2], event.at).realized_pnl += event.realized_pnl or 0.0
    by_account: dict[tuple[int, str], list[DailyPnl]] = defaultdict(list)
    for key in sorted(days):
        by_account[key[:2]].append(days[key])
    for rows in by_account.values():
        cumulative_realized = cumulative_net = peak = 0.0
        for row in rows:
            row.net_pnl = row.realized_pnl - row.charges
            cumulative_realized += row.realized_pnl
            cumulative_net += row.net_pnl
            peak = max(peak, cumulative_net)
            row.cumulative_realized_pnl, row.cumulative_net_pnl = cumulative_realized, cumulative_net
            row.drawdown = cumulative_net - peak
    return days


# --------------------------------------------------------------------------
# Everything
# --------------------------------------------------------------------------


@dataclass
class Derivation:
    params: Params
    orders: dict[int, Order]  # R1.8 winners
    trades: list[HistoryTrade]  # R4.1: user_id set where attributed
    positions_markers: list[PositionsMarker]
    typed: dict[int, TypedOrder]  # R2/R3 per order id
    cycles: dict[tuple[int, str, str, int], Cycle]
    positions: dict[tuple[int, str, str, int], Position]
    daily: dict[tuple[int, str, dt.date], DailyPnl]
    items: list[HistoryItem]  # R4.2
    reentries: dict[int, ReentryDetail]  # R4.3 / R4.4 per reentry-typed order id
    daily_reentries: dict[tuple[int, str, str, dt.date], DailyReentries]  # R7

    @property
    def unattributed(self) -> int:
        return sum(1 for t in self.trades if t.user_id is None)


def book_events(orders: dict[int, Order], trades: list[HistoryTrade],
                positions_markers: list[PositionsMarker], params: Params
                ) -> dict[tuple[int, str, str], list[Order | Marker]]:
    """Every order in its book; close markers (R2, R6) in the default-trade-mode book."""
    books: dict[tuple[int, str, str], list[Order | Marker]] = defaultdict(list)
    for order in orders.values():
        books[order.book].append(order)
    mode = params.default_trade_mode
    for trade in trades:
        if trade.user_id is not None and trade.is_close_marker:
            books[(trade.user_id, trade.base_symbol, mode)].append(Marker(
                trade.exit_at, "trade_history", trade.exit_price, trade.exit_reason,  # type: ignore[arg-type]
                (trade.file, trade.index)))
    for row in positions_markers:
        books[(row.user_id, row.base_symbol, mode)].append(Marker(
            row.closed_at, "positions_table", row.exit_price, row.exit_reason, ()))
    return books


def derive(raw: Path, params: Optional[Params] = None) -> Derivation:
    """Read a raw folder and derive orders, cycles, positions and daily P&L."""
    params = params or load_params()
    orders = read_orders(raw, params)
    trades = read_history_trades(raw, params)
    attribute_trades(trades, orders, params)
    positions_markers = read_positions_markers(raw, params)
    typed: dict[int, TypedOrder] = {}
    cycles: dict[tuple[int, str, str, int], Cycle] = {}
    for book, events in sorted(book_events(orders, trades, positions_markers, params).items()):
        book_typed, book_cycles = walk_book(book, events, params)
        typed.update(book_typed)
        cycles.update((c.key, c) for c in book_cycles)
    items = deduplicate_items(history_items(trades, params))
    reentries = reentry_details(orders, typed, items, params)
    positions = {key: position_metrics(c, typed, params, reentries) for key, c in cycles.items()}
    daily = daily_pnl(orders, list(cycles.values()), params)
    return Derivation(params, orders, trades, positions_markers, typed, cycles, positions, daily,
                      items, reentries, daily_reentries(orders, reentries, params))
