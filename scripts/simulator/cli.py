"""Command line of the simulator (``scripts/generate_sample_data.py`` is a thin
wrapper around ``main``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time as wallclock
from pathlib import Path
from typing import Optional

from .writers import GeneratorError, OUT_ALLOWED, TRUTH_ALLOWED, prepare_dir
from .simulation import Config, Simulator, plan_sizes


def parse_args(argv: Optional[list[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Simulate the auto-trading app and write raw exports plus the truth.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("data/raw"),
                        help="raw folder to (re)create: orders/, positions/, trade_history/")
    parser.add_argument("--truth", type=Path, default=Path("data/truth"),
                        help="truth folder to (re)create")
    parser.add_argument("--seed", type=int, default=42, help="random seed")
    parser.add_argument("--orders", type=int, default=5000,
                        help="approximate number of orders to simulate")
    parser.add_argument("--users", type=int, default=None,
                        help="number of users (default: scaled from --orders)")
    parser.add_argument("--symbols", type=int, default=None,
                        help="number of symbols (default: scaled from --orders)")
    parser.add_argument("--days", type=int, default=None,
                        help="number of trading days (default: scaled from --orders)")
    parser.add_argument("--history-trades", type=int, default=None,
                        help="approximate number of history trades (default: one per "
                             "position cycle of the broker books)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if args.orders < 1:
        parser.error("--orders must be positive")
    for name in ("users", "symbols", "days", "history_trades"):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f"--{name.replace('_', '-')} must be positive")
    return args


def generate(args: argparse.Namespace) -> Simulator:
    """Prepare the folders and run the simulation."""
    out = args.out.resolve()
    truth = args.truth.resolve()
    if out == truth or out in truth.parents or truth in out.parents:
        raise GeneratorError("--out and --truth must be separate folders")
    sizes = plan_sizes(args.orders, args.users, args.symbols, args.days)
    prepare_dir(out, OUT_ALLOWED, "--out")
    prepare_dir(truth, TRUTH_ALLOWED, "--truth")
    (out / "orders").mkdir()
    cfg = Config(out=out, truth=truth, seed=args.seed, orders=args.orders, sizes=sizes,
                 history_trades=args.history_trades, quiet=args.quiet)
    with tempfile.TemporaryDirectory(prefix="gen_sample_", dir=out.parent) as tmp:
        sim = Simulator(cfg, Path(tmp))
        sim.run()
    return sim


def main(argv: Optional[list[str]] = None) -> int:
    args = parse_args(argv)
    started = wallclock.monotonic()
    try:
        sim = generate(args)
    except GeneratorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(sim.summary(wallclock.monotonic() - started))
    return 0
