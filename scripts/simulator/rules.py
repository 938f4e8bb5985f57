"""The rule parameters the simulator needs, read from the vars of ``dbt_project.yml``.

The simulator writes what the app did; where that must line up with how the
warehouse reads it (which trade mode the history file's markers close, how near
a buy must be for R4.1 rule 3, how soon a sell attaches to a marker close, which
series suffixes a symbol may carry, the market's wall clock), it takes the value
from the same vars the models read, never a copy.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

PROJECT_FILE = Path(__file__).resolve().parents[2] / "dbt_project.yml"


def load_vars(path: Path = PROJECT_FILE) -> dict[str, Any]:
    """The `vars` block of dbt_project.yml."""
    return dict(yaml.safe_load(path.read_text(encoding="utf-8"))["vars"])


def utc_offset_text(zone: str, day: dt.date) -> str:
    """The zone's offset on `day` as ISO text, e.g. ``+05:30``."""
    offset = ZoneInfo(zone).utcoffset(dt.datetime(day.year, day.month, day.day))
    assert offset is not None
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


VARS = load_vars()
# R4.1 rule 3: minutes between a history trade's entry_time and a user's buy fill
TRADE_MATCH_MINUTES: float = float(VARS["trade_match_minutes"])
# R2: a sell less than this many hours after a history close attaches to that cycle
EXIT_ATTACH_HOURS: float = float(VARS["exit_attach_hours"])
# R1.6 / R2: the live-trading engine's books; rows without a trade mode and the history
# file's close markers belong to this mode, so the simulator's live books carry it
LIVE_MODE: str = str(VARS["default_trade_mode"])
# R1.1: series a broker symbol may end with (the simulator's symbols use these)
SERIES_SUFFIXES: frozenset[str] = frozenset(str(s).upper() for s in VARS["series_suffixes"])
# R1.7: the market's wall clock; "+05:30" on newer rows
MARKET_TIME_ZONE: str = str(VARS["market_time_zone"])
MARKET_UTC_OFFSET: str = utc_offset_text(MARKET_TIME_ZONE, dt.date(2025, 1, 1))
