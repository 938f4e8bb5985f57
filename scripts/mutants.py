#!/usr/bin/env python3
"""Mutation check: apply small wrong readings of the rules and show that `dbt build` catches each.

    make mutants                                  # every mutant, on 300 generated orders
    .venv/bin/python scripts/mutants.py --list
    .venv/bin/python scripts/mutants.py utc_dates strict_attach_window

Each mutant is one textual change to a copy of the project (models, macros,
tests, dbt_project.yml): a rule read the wrong way (a UTC date where the India
date is meant, sells before buys on equal times, `<=` for a strict window, ...).
The copy is built with `dbt build` (models, unit tests, data tests) on a small
generated warehouse; a mutant is *caught* when the build fails, and the failing
tests are listed. The unmutated copy must pass first, or nothing is proven.
A mutant whose text is no longer in its file is reported as stale (the code
moved: update the mutant), which also fails the check.

Exit codes: 0 every mutant caught; 1 a mutant survived, is stale, or the
baseline failed; 2 bad arguments.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

PROJECT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
COPIED = ("models", "macros", "tests", "dbt_project.yml", "profiles.yml")


@dataclass(frozen=True)
class Mutant:
    name: str
    rule: str
    wrong_reading: str
    path: str
    old: str
    new: str


MUTANTS = [
    Mutant("utc_dates", "R1.7, R7, R8.6", "trading dates are UTC dates, not India (Asia/Kolkata) dates",
           "macros/time.sql",
           """cast(timezone('{{ var("market_time_zone") }}', {{ column }}) as date)""",
           """cast(timezone('UTC', {{ column }}) as date)"""),
    Mutant("sells_before_buys", "R2", "on equal times sells are walked before buys",
           "models/intermediate/trading/int_book_events_walked.sql",
           "case when side = 'buy' then 1 else 2 end as event_rank",
           "case when side = 'buy' then 2 else 1 end as event_rank"),
    Mutant("inclusive_attach_window", "R2", "a sell exactly exit_attach_hours after a marker still attaches (<=)",
           "models/intermediate/trading/int_book_events_walked.sql",
           "< {{ var('exit_attach_hours') }} * 3600",
           "<= {{ var('exit_attach_hours') }} * 3600"),
    Mutant("cap_inclusive", "R7", "a day at exactly the cap is over it (>=)",
           "models/marts/trading/fct_daily_reentries.sql",
           "executed_reentries > {{ var('daily_reentry_cap') }} as is_over_cap",
           "executed_reentries >= {{ var('daily_reentry_cap') }} as is_over_cap"),
    Mutant("split_at_first_dash", "R1.1", "the base symbol is the text before the first dash",
           "macros/symbols.sql",
           "'-({{ series }})$',",
           "'-.*$',"),
    Mutant("oldest_version_wins", "R1.8", "the oldest version of an order id wins",
           "models/intermediate/trading/int_orders_deduplicated.sql",
           "order by updated_at desc nulls last, source_file desc, source_row desc",
           "order by updated_at asc nulls last, source_file desc, source_row desc"),
    Mutant("markers_before_sells", "R2, R6", "positions-table markers rank before sells at equal times",
           "models/intermediate/trading/int_book_events_walked.sql",
           "        4 as event_rank,",
           "        0 as event_rank,"),
    Mutant("vwap_with_oversold", "R8.1", "exit_vwap counts the oversold excess of a sell",
           "models/marts/trading/fct_positions.sql",
           "sum(sold_qty + marker_closed_qty) as exit_qty,",
           "sum(filled_qty + marker_closed_qty) as exit_qty,"),
    Mutant("unpriced_first_buy_sets_average", "R5", "the first buy sets the average even when its price is unknown",
           "macros/costing.sql",
           "min(case when {{ is_buy }} and {{ price }} is not null then {{ order_by }} end)",
           "min(case when {{ is_buy }} then {{ order_by }} end)"),
    Mutant("drawdown_from_first_day", "R8.6", "the running peak starts at the first day, not at 0",
           "models/marts/trading/fct_daily_pnl.sql",
           "cumulative_net_pnl - greatest(cast(0 as {{ type_double() }}), max(cumulative_net_pnl) over (",
           "cumulative_net_pnl - greatest(cast(-1e18 as {{ type_double() }}), max(cumulative_net_pnl) over ("),
    Mutant("charges_as_percent_of_one", "R8.4", "charge_pct is a fraction, not a percentage",
           "models/marts/trading/fct_orders.sql",
           "* {{ var('charge_pct') }} / 100",
           "* {{ var('charge_pct') }}"),
]
BY_NAME = {mutant.name: mutant for mutant in MUTANTS}


def env_for(warehouse: Path) -> dict[str, str]:
    return dict(os.environ, DBT_SEND_ANONYMOUS_USAGE_STATS="false", DBT_TARGET="duckdb",
                WAREHOUSE=str(warehouse), PYTHONUNBUFFERED="1")


def run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)


def prepare_data(workdir: Path, orders: int) -> Path:
    """Generate and load a small raw warehouse once; each build starts from a copy of it."""
    raw, truth, warehouse = workdir / "raw", workdir / "truth", workdir / "loaded.duckdb"
    steps = [
        [str(BIN / "python"), str(PROJECT / "scripts" / "generate_sample_data.py"), "--out", str(raw),
         "--truth", str(truth), "--orders", str(orders), "--quiet"],
        [str(BIN / "python"), str(PROJECT / "scripts" / "load_raw.py"), "--raw-dir", str(raw),
         "--warehouse", str(warehouse), "--quiet"],
    ]
    for step in steps:
        result = run(step, PROJECT, env_for(warehouse))
        if result.returncode != 0:
            raise SystemExit(f"mutants: {Path(step[1]).name} failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    return warehouse


def copy_project(destination: Path) -> Path:
    destination.mkdir(parents=True)
    for name in COPIED:
        source = PROJECT / name
        if source.is_dir():
            shutil.copytree(source, destination / name, ignore=shutil.ignore_patterns("python", "__pycache__"))
        else:
            shutil.copy2(source, destination / name)
    return destination


FAILED_TEST = re.compile(r"(?:Failure|Error) in (?:unit_test|test) (\S+)")


def build(project: Path, data: Path, scratch: Path) -> tuple[bool, list[str], str]:
    """dbt build of `project` on a fresh copy of the raw warehouse: (passed, failing tests, output tail)."""
    scratch.mkdir(parents=True, exist_ok=True)
    warehouse = scratch / "warehouse.duckdb"
    shutil.copy2(data, warehouse)
    result = run([str(BIN / "dbt"), "build", "--project-dir", str(project), "--profiles-dir", str(project),
                  "--target-path", str(scratch / "target"), "--log-path", str(scratch / "logs")],
                 project, env_for(warehouse))
    output = result.stdout + result.stderr
    failing = sorted(set(FAILED_TEST.findall(output)))
    if result.returncode != 0 and not failing:
        failing = ["(the build itself failed: " + (output.strip().splitlines() or ["?"])[-1][:160] + ")"]
    return result.returncode == 0, failing, output[-3000:]


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     epilog="Exit codes: 0 every mutant caught, 1 one survived or is stale, 2 bad arguments.")
    parser.add_argument("mutants", nargs="*", metavar="MUTANT", help="mutants to apply (default: all; see --list)")
    parser.add_argument("--list", action="store_true", help="list the mutants and the wrong reading each applies")
    parser.add_argument("--orders", type=int, default=300, help="generated orders for the builds (default: 300)")
    parser.add_argument("--keep", type=Path, help="keep the mutated copies and their logs in this folder")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.list:
        for mutant in MUTANTS:
            print(f"{mutant.name} ({mutant.rule}): {mutant.wrong_reading}\n    in {mutant.path}")
        return 0
    unknown = [name for name in args.mutants if name not in BY_NAME]
    if unknown:
        print(f"mutants: unknown mutant(s) {', '.join(unknown)}; known: {', '.join(BY_NAME)}", file=sys.stderr)
        return 2
    chosen = [BY_NAME[name] for name in args.mutants] or MUTANTS
    workdir = Path(tempfile.mkdtemp(prefix="mutants-")) if args.keep is None else args.keep
    workdir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    try:
        data = prepare_data(workdir, args.orders)
        baseline = copy_project(workdir / "baseline")
        passed, failing, tail = build(baseline, data, workdir / "baseline_run")
        if not passed:
            print(f"mutants: the unmutated project fails its own build ({', '.join(failing)}); fix that first\n{tail}",
                  file=sys.stderr)
            return 1
        print(f"baseline: dbt build passes ({time.monotonic() - started:.0f}s)", flush=True)
        survivors = 0
        for index, mutant in enumerate(chosen, 1):
            copy = copy_project(workdir / f"mutant_{mutant.name}")
            target = copy / mutant.path
            text = target.read_text()
            if text.count(mutant.old) != 1:
                print(f"[{index}/{len(chosen)}] STALE   {mutant.name}: its text occurs {text.count(mutant.old)} times "
                      f"in {mutant.path} (expected once): update the mutant", flush=True)
                survivors += 1
                continue
            target.write_text(text.replace(mutant.old, mutant.new))
            passed, failing, _ = build(copy, data, workdir / f"run_{mutant.name}")
            if passed:
                survivors += 1
                print(f"[{index}/{len(chosen)}] SURVIVED {mutant.name} ({mutant.rule}): {mutant.wrong_reading}",
                      flush=True)
            else:
                print(f"[{index}/{len(chosen)}] caught  {mutant.name} ({mutant.rule}): {mutant.wrong_reading}\n"
                      f"        by {', '.join(failing)}", flush=True)
        caught = len(chosen) - survivors
        print(f"mutants: {caught} of {len(chosen)} caught in {time.monotonic() - started:.0f}s")
        return 0 if survivors == 0 else 1
    finally:
        if args.keep is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
