"""How the app's rows look and which odd cases happen: the proportions of every
quirk (failed, cancelled, pending, partial fills, manual orders, orphan and
attached exits, oversold sells, lost ids, ...), forcing a quirk that has not
happened yet, and the cosmetic variations of a row (symbol form, case, time
style, trade-mode spelling, recorded entry type).
"""

from __future__ import annotations

import random
from typing import Any, Optional

from .market import DAY, OPEN_SECOND
from .rules import LIVE_MODE
from .state import Book, Order, TradeRec


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


# Cosmetic variations, picked with random bits (see Simulator._new_order).
SYMBOL_FORM = (0,) * 120 + (1,) * 4 + (2,) * 3 + (3,)  # of 128: broker, lower, .NS, lower .NS
CASE_PICK = (0,) * 29 + (1, 1, 2)  # of 32: as is, UPPER, Capitalised
CASE_WORDS = ("buy", "sell", "market", "limit", "failed", "retry_pending", "rejected",
              "cancelled", "pending", "closed", "ongoing")


CASE_FORMS = {w: (w, w.upper(), w.capitalize()) for w in CASE_WORDS}
# the live books' trade mode as rows spell it; NULL on older rows means var default_trade_mode
BROKER_FORMS = ((None,) * 3 + (LIVE_MODE,) * 26
                + (LIVE_MODE.upper(), LIVE_MODE.upper(), LIVE_MODE.capitalize()))
PAPER_FORMS = ("paper",) * 27 + ("PAPER",) * 3 + ("Paper",) * 2
CLIENT_TAGS = (None, "web", "mobile", "api-v2")
OLDER_TRADE_DROPS = ("ema200", "capital", "levels_taken", "reset_ready", "source")
QUIRK_ERA = {
    "manual_open": "any", "manual_add": "any", "failed_initial": "any",
    "failed_reentry": "any", "cancelled_initial": "any", "cancelled_reentry": "any",
    "pending_initial": "any", "pending_reentry": "any", "dup_level": "any",
    "partial_fill": "new", "orphan": "new", "marker_only": "new", "attached": "new",
    "oversold": "new", "partial_exit": "new", "cancel_sell": "new",
    "partial_cancelled": "new",
}


def _never(_: str) -> bool:
    return False


class QuirksMixin:
    """How the app's rows look and which odd cases happen (statuses, cosmetics, lost ids).

    A mixin of Simulator (simulation.py), which holds the state these methods use.
    """

    rng: random.Random

    def _force(self, quirk: str) -> bool:
        """True once, when a quirk has not happened by FORCE_AFTER of its era."""
        if self.quirks[quirk]:
            return False
        era = QUIRK_ERA[quirk]
        if era == "new" and not self.new_era:
            return False
        return self.era_progress > FORCE_AFTER

    def _note(self, quirk: str) -> None:
        self.quirks[quirk] += 1

    def _case(self, word: str) -> str:
        """Mostly lower case, sometimes UPPER or Capitalised (any case is valid)."""
        return CASE_FORMS[word][CASE_PICK[self.rng.getrandbits(5)]]

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
