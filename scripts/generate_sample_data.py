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

The simulator itself is the package ``scripts/simulator/`` (market, strategy,
quirks, writers, cli; rule parameters from ``dbt_project.yml``); this file is
its command line.

Example::

    python scripts/generate_sample_data.py --out data/raw --truth data/truth \\
        --seed 42 --orders 5000
"""

from __future__ import annotations

import sys

from simulator.cli import generate, main, parse_args
from simulator.writers import GeneratorError, HistoryFile, write_history_document

# The script's API (tests/python/test_generate_sample_data.py uses the history writers).
__all__ = ["GeneratorError", "HistoryFile", "generate", "main", "parse_args",
           "write_history_document"]

if __name__ == "__main__":
    sys.exit(main())
