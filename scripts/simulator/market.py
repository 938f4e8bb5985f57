"""The simulated market: trading days, the India wall clock, and each symbol's
RSI(10) / price path per 30-minute bar (with its daily EMA9 and EMA200).
"""

from __future__ import annotations

import datetime as dt
import math
import random
import statistics
from collections import deque
from typing import TYPE_CHECKING, Optional

from .rules import MARKET_UTC_OFFSET, SERIES_SUFFIXES


if TYPE_CHECKING:
    from .state import Book, TradeRec


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
# Simulated market (per 30-minute bar): an RSI mean-reverting to 50; the price
# is a daily random-walk level times a factor that falls with the RSI.
RSI_THETA = 0.04
RSI_SIGMA = 6.0
PRICE_KAPPA = 0.15
DAILY_VOL = 0.012
EMA9_ALPHA = 2.0 / 10.0
EMA200_ALPHA = 2.0 / 201.0
TARGET_OVER_EMA9 = 1.0  # exit target: the daily EMA9 at entry
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
        """Style 0: ``YYYY-MM-DD HH:MM:SS``; 1: ``...THH:MM:SS``; 2: with the market's offset
        (+05:30, var market_time_zone)."""
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
        return ds + "T" + hms + MARKET_UTC_OFFSET


def normal_table(bits: int) -> tuple[float, ...]:
    """Quantiles of N(0, 1): indexing with random bits is a fast normal draw."""
    dist = statistics.NormalDist()
    size = 1 << bits
    return tuple(dist.inv_cdf((i + 0.5) / size) for i in range(size))


NORMAL_BITS = 12
NORMAL = normal_table(NORMAL_BITS)


def base_to_broker(base: str, series: str) -> str:
    """The broker symbol: the base symbol and a series the rules drop (var series_suffixes)."""
    if series not in SERIES_SUFFIXES:
        raise ValueError(f"series {series!r} of {base} is not in var series_suffixes")
    return f"{base}-{series}"


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
