"""Answer the analysts' questions with MetricFlow (`mf query`) on the warehouse.

    make metrics                                   # dbt parse, then every question
    .venv/bin/python scripts/metrics.py reentry_rate discount_by_level
    .venv/bin/python scripts/metrics.py --list

The metrics and semantic models are in models/marts/semantic/; each question
has a plain-SQL twin in analyses/ (named below). MetricFlow reads
`<project>/target/semantic_manifest.json` (written by `dbt parse`) and connects
through profiles.yml, so WAREHOUSE selects the warehouse file.

Exit codes: 0 every query answered; 1 a query failed; 2 bad arguments or no
semantic manifest.
"""
from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

PROJECT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Question:
    name: str
    text: str
    metrics: list[str]
    group_by: list[str] = field(default_factory=list)
    order: list[str] = field(default_factory=list)
    decimals: int = 4
    display_limit: int | None = None
    analysis: str = ""

    def mf_args(self) -> list[str]:
        args = ["query", "--metrics", ",".join(self.metrics), "--decimals", str(self.decimals)]
        if self.group_by:
            args += ["--group-by", ",".join(self.group_by)]
        if self.order:
            args += ["--order", ",".join(self.order)]
        return args


# R8.7: the outcome metrics of closed cycles, asked together for any grouping.
OUTCOMES = ["closed_cycles", "win_rate", "profit_factor", "gross_profit", "gross_loss", "total_reentry_pnl",
            "avg_holding_days"]

QUESTIONS = [
    Question("reentry_rate", "What share of position cycles had at least one reentry?",
             ["reentry_rate", "positions", "positions_with_reentries"], analysis="analyses/reentry_rate.sql"),
    Question("discount_by_level", "How far below the opening price do reentries fill, by RSI level?",
             ["avg_reentry_discount_pct", "reentries"], ["reentry__reentry_level"], ["-reentry__reentry_level"],
             analysis="analyses/reentry_discount_by_level.sql"),
    Question("pnl_by_reentries", "Realized P&L of cycles with and without reentries",
             ["realized_pnl", "positions", "avg_realized_pnl_pct_closed"], ["position__has_reentries"],
             ["position__has_reentries"], decimals=2,
             analysis="analyses/realized_pnl_with_and_without_reentries.sql, "
                      "analyses/pnl_closed_positions_by_reentries.sql"),
    Question("cap_breaches_per_day", "Daily reentry cap breaches per trading day (latest first)",
             ["cap_breaches", "book_days_with_reentries"], ["metric_time__day"], ["-metric_time__day"],
             display_limit=10, analysis="analyses/cap_breaches_per_day.sql"),
    Question("outcomes_by_reentry_count", "Did averaging down pay? Outcomes of closed cycles by number of reentries",
             OUTCOMES + ["net_realized_pnl"], ["position__reentry_count_bucket"], ["position__reentry_count_bucket"],
             decimals=2, analysis="analyses/outcomes_by_reentry_count.sql"),
    Question("outcomes_by_exit_reason", "Outcomes of closed cycles by exit reason",
             OUTCOMES, ["position__exit_reason"], ["position__exit_reason"], decimals=2,
             analysis="analyses/outcomes_by_exit_reason.sql"),
    Question("outcomes_by_month", "Closed cycles, win rate and net P&L per month of closing",
             ["closed_cycles", "win_rate", "net_realized_pnl"], ["metric_time__month"], ["metric_time__month"],
             decimals=2, analysis="analyses/outcomes_by_month.sql"),
    Question("max_drawdown_by_user", "Each user's deepest drawdown of the net equity curve",
             ["max_drawdown"], ["daily_pnl__user_id"], ["daily_pnl__user_id"], decimals=2,
             analysis="analyses/max_drawdown_by_user.sql"),
]
BY_NAME = {question.name: question for question in QUESTIONS}


def mf_executable() -> str:
    local = Path(sys.executable).parent / "mf"
    return str(local) if local.exists() else "mf"


def format_cell(cell: str, decimals: int) -> str:
    """Round decimals as `mf query --decimals` does on screen; whole numbers (RSI levels) without
    decimals, midnight timestamps as dates, empty cells as NULL."""
    if cell == "":
        return "NULL"
    if cell.endswith(" 00:00:00"):
        return cell[: -len(" 00:00:00")]
    if "." in cell:
        try:
            value = float(cell)
        except ValueError:
            return cell
        return f"{value:.0f}" if value.is_integer() else f"{value:.{decimals}f}"
    return cell


def format_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(cell.rjust(width) for cell, width in zip(cells, widths)).rstrip()

    return "\n".join([line(header), "  ".join("-" * width for width in widths), *(line(row) for row in rows)])


def run_question(question: Question, project_dir: Path, csv_dir: Path, show_all: bool) -> tuple[str, str, bool]:
    """Run one question; return (command shown, output, ok)."""
    out = csv_dir / f"{question.name}.csv"
    args = question.mf_args()
    shown = "mf " + " ".join(args)
    env = dict(os.environ, DBT_PROJECT_DIR=str(project_dir), DBT_SEND_ANONYMOUS_USAGE_STATS="false")
    env.setdefault("DBT_PROFILES_DIR", str(PROJECT))
    result = subprocess.run([mf_executable(), *args, "--csv", str(out), "--quiet"], cwd=project_dir, env=env,
                            capture_output=True, text=True)
    if result.returncode != 0 or not out.exists():
        return shown, (result.stdout + result.stderr).strip(), False
    with out.open(newline="") as handle:
        header, *rows = list(csv.reader(handle))
    limit = None if show_all else question.display_limit
    shown_rows = [[format_cell(cell, question.decimals) for cell in row] for row in (rows[:limit] if limit else rows)]
    table = format_table(header, shown_rows)
    if limit and len(rows) > limit:
        table += f"\n... {len(rows) - limit} more rows (--all shows them)"
    return shown, table, True


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog="Exit codes: 0 ok, 1 a query failed, 2 bad arguments.")
    parser.add_argument("questions", nargs="*", metavar="QUESTION", help="questions to answer (default: all; see --list)")
    parser.add_argument("--list", action="store_true", help="list the questions, their metrics and SQL twins")
    parser.add_argument("--project-dir", type=Path, default=PROJECT,
                        help="dbt project whose target/semantic_manifest.json MetricFlow reads (default: this project)")
    parser.add_argument("--csv-dir", type=Path, help="keep each answer as <question>.csv here (default: a temp dir)")
    parser.add_argument("--all", action="store_true", help="print every row (per-day answers are cut at 10 rows)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.list:
        for question in QUESTIONS:
            print(f"{question.name}: {question.text}\n    metrics {', '.join(question.metrics)}"
                  f"{' by ' + ', '.join(question.group_by) if question.group_by else ''}; SQL twin {question.analysis}")
        return 0
    unknown = [name for name in args.questions if name not in BY_NAME]
    if unknown:
        print(f"metrics: unknown question(s) {', '.join(unknown)}; known: {', '.join(BY_NAME)}", file=sys.stderr)
        return 2
    manifest = args.project_dir / "target" / "semantic_manifest.json"
    if not manifest.exists():
        print(f"metrics: {manifest} missing: run `dbt parse` first (make metrics does)", file=sys.stderr)
        return 2
    chosen = [BY_NAME[name] for name in args.questions] or QUESTIONS
    failed = 0
    with tempfile.TemporaryDirectory(prefix="metrics-") as scratch:
        csv_dir = args.csv_dir or Path(scratch)
        csv_dir.mkdir(parents=True, exist_ok=True)
        for question in chosen:
            shown, output, ok = run_question(question, args.project_dir, csv_dir, args.all)
            print(f"# {question.text}\n$ {shown}\n{output}\n", flush=True)
            failed += not ok
    if failed:
        print(f"metrics: {failed} of {len(chosen)} queries failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
