"""The simulator: sizes, the world (users, symbols, books), and the day-by-day
main loop that drives the strategy, quirks and writers mixins.
"""

from __future__ import annotations

import math
import random
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

from .market import (
    BARS,
    BAR_SECONDS,
    CORE_SYMBOLS,
    Clock,
    DAY,
    END_DATE,
    HOUR,
    OPEN_SECOND,
    SYLLABLES,
    SYNTHETIC_TAILS,
    Symbol,
    day_start,
    trading_days,
)
from .rules import LIVE_MODE
from .state import Book, TradeRec, User
from .writers import GeneratorError, HistoryFile, OrderExports, WritersMixin, plan_exports
from .quirks import P_MANUAL, P_ORPHAN, QUIRK_ERA, QuirksMixin
from .strategy import StrategyMixin


# Calibrated: orders produced per (symbol, watching user) pair and trading day.
ORDERS_PER_PAIR_DAY = 0.65
USERS_PER_SYMBOL = 1.7  # on average (1 to 3)
MAX_DAYS = 750
MIN_DAYS = 30
JOIN_FROM = 0.1  # users after the first quarter join between these shares of the days
JOIN_UNTIL = 0.7
CAPITALS = (25_000, 40_000, 50_000, 60_000, 75_000, 100_000, 120_000, 150_000, 200_000)
POSITIONS_KEEP_DAYS = 60


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


@dataclass
class Config:
    out: Path
    truth: Path
    seed: int
    orders: int
    sizes: Sizes
    history_trades: Optional[int]
    quiet: bool


class Simulator(StrategyMixin, QuirksMixin, WritersMixin):
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
                sym.books.append(Book(user, sym, LIVE_MODE))
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
                                and (bk.mode == LIVE_MODE or new_era)]
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

    def _rint(self, a: int, b: Optional[int] = None) -> int:
        """A uniform integer in [0, a) or [a, b): faster than Random.randrange."""
        if b is None:
            return int(self.rng.random() * a)
        return a + int(self.rng.random() * (b - a))

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

    def _finish(self) -> None:
        for sym in self.symbols:
            for book in sym.books:
                cyc = book.cycle
                if cyc is None:
                    continue
                self._write_positions_truth(book, cyc, "open")
                if book.mode == LIVE_MODE:
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
