"""The app's behaviour: when it buys (RSI(10) below 30), re-enters at deeper
levels (30/20/10), exits (EMA9 target or RSI above 50), and what it writes to
its history file.

The truth is what the app did, recorded as it happens (the cycle a buy opened,
the reentries it counted). One rule is evaluated here on purpose: before a
shared-file history trade may lose its order ids (a quirk), ``_rule3`` checks
what R4.1 rule 3 would then say, with the window read from the vars
(``trade_match_minutes``); the ids go only where rule 3 would name the right
user, or nobody on a trade whose cycle a sell closed, so the truth stays what
the app did. It decides which quirk is safe to write; it does not derive the
truth.
"""

from __future__ import annotations

import heapq
import math
import random
from typing import Any, Optional

from .market import (
    BARS,
    BAR_SECONDS,
    HOUR,
    LEVELS,
    LEVEL_BIT,
    OPEN_SECOND,
    SIGNAL_SPREAD,
    Symbol,
    TARGET_OVER_EMA9,
)
from .rules import EXIT_ATTACH_HOURS, LIVE_MODE, TRADE_MATCH_MINUTES
from .state import Book, Cycle, Order, TradeRec
from .quirks import (
    CANCEL_REASONS,
    OLDER_TRADE_DROPS,
    P_AMO,
    P_ATTACHED,
    P_CANCELLED,
    P_CANCEL_OVERLAP,
    P_CANCEL_SELL,
    P_DUP_LEVEL,
    P_FAILED,
    P_MANUAL,
    P_MARKER_ONLY,
    P_ORPHAN,
    P_OVERSOLD,
    P_PARTIAL,
    P_PARTIAL_CANCELLED,
    P_PARTIAL_EXIT,
    P_PARTIAL_FILL_MANUAL,
    P_PENDING,
    P_SIGNAL_SOURCE,
    _never,
)


# R4.1 rule 3 window in seconds (var trade_match_minutes)
RULE3_WINDOW = round(TRADE_MATCH_MINUTES * 60)
RULE3_MARGIN = 60  # keep buys this close to the window edge out of rule 3
# attached exits come well inside var exit_attach_hours (4 hours inside: 44 of 48)
ATTACH_MAX = round((EXIT_ATTACH_HOURS - 4) * HOUR)
ORPHAN_MIN_GAP = 72 * HOUR  # orphan exits come well after the last close
BUY_HORIZON = 6 * HOUR  # rule-3 buy memory per symbol


class StrategyMixin:
    """The app's trading: buys, reentries, exits, cycles and history trades.

    A mixin of Simulator (simulation.py), which holds the state these methods use.
    """

    rng: random.Random

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
        if roll < P_MANUAL or self._force("manual_open") or self._force("manual_add"):
            cands = [bk for bk in sym.active_books
                     if bk.mode == LIVE_MODE and bk.busy_until < bar_start]
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
                if book.mode == LIVE_MODE and book.busy_until < bar_start:
                    self._buy(book, "manual", bar_start + self._rint(600), 0,
                              force_amo=True)
                    return

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
        amo = (executed and book.mode == LIVE_MODE and b == BARS - 1
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
        if book.mode == LIVE_MODE and outcome == "failed":
            self._history_for(book.user).add_failed({
                "symbol": sym.base, "placed_symbol": sym.broker, "qty": qty,
                "reason": o.reason, "failed_at": self._hist_time(t),
                "retry_count": o.retry_count or 0, "entry_type": truth_type,
            })

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
        if book.mode != LIVE_MODE or trade is None:
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
        if book.mode == LIVE_MODE and self._record_trade():
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
        if book.mode == LIVE_MODE and self.di >= self.positions_from:
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
        if book.mode == LIVE_MODE:
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
