"""The simulation state: users, books (user, symbol, trade mode), position
cycles, history trades and orders, as the app holds them.
"""

from __future__ import annotations

from typing import Any, Optional

from .market import Symbol


class User:
    __slots__ = ("uid", "capital", "paper", "own_file", "join_di")

    def __init__(self, uid: int, capital: int, paper: bool, own_file: bool,
                 join_di: int) -> None:
        self.uid = uid
        self.capital = capital
        self.paper = paper
        self.own_file = own_file
        self.join_di = join_di


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
