"""MetricFlow metrics against their plain-SQL twins in analyses/.

On the end-to-end warehouse (fixture `built`), `scripts/metrics.py` answers every
question with `mf query`; `dbt compile` renders analyses/ and each twin query is
run directly. The answers must agree, so the semantic layer and the documented
SQL cannot drift apart."""
from __future__ import annotations

import csv
import math
from pathlib import Path

import duckdb
import pytest

from conftest import dbt, record_summary


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def number(cell: str | None) -> float | None:
    return None if cell in (None, "") else float(cell)


def close(a: float | None, b: float | None, tolerance: float) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, abs_tol=tolerance, rel_tol=1e-9)


@pytest.fixture(scope="session")
def analyses(built: dict[str, Path]) -> dict[str, list[dict]]:
    """Compile analyses/ and run each compiled query read-only on the warehouse."""
    dbt("compile", "--select", "resource_type:analysis", warehouse=built["warehouse"], target_path=built["target"])
    compiled = built["target"] / "compiled" / "trading_warehouse" / "analyses"
    con = duckdb.connect(str(built["warehouse"]), read_only=True)
    answers = {}
    try:
        for path in sorted(compiled.glob("*.sql")):
            cursor = con.execute(path.read_text())
            names = [column[0] for column in cursor.description]
            answers[path.stem] = [dict(zip(names, row)) for row in cursor.fetchall()]
    finally:
        con.close()
    return answers


def test_every_analysis_compiles_and_runs(analyses: dict[str, list[dict]], project: Path) -> None:
    expected = {path.stem for path in (project / "analyses").glob("*.sql")}
    assert expected <= set(analyses), f"not compiled: {sorted(expected - set(analyses))}"


def test_reentry_rate(metrics_answers: dict, analyses: dict) -> None:
    (mf,) = read_csv(metrics_answers["csv_dir"] / "reentry_rate.csv")
    (sql,) = analyses["reentry_rate"]
    assert int(mf["positions"]) == sql["positions"]
    assert int(mf["positions_with_reentries"]) == sql["positions_with_reentries"]
    assert close(float(mf["reentry_rate"]), float(sql["reentry_rate"]), 5e-5)
    record_summary(f"metrics: reentry_rate {float(mf['reentry_rate']):.4f} over {sql['positions']} cycles "
                   "(mf query = analyses/reentry_rate.sql)")


def test_reentry_discount_by_level(metrics_answers: dict, analyses: dict) -> None:
    mf = {number(row["reentry__reentry_level"]): row
          for row in read_csv(metrics_answers["csv_dir"] / "discount_by_level.csv")}
    sql = {row["reentry_level"]: row for row in analyses["reentry_discount_by_level"]}
    assert set(mf) == set(sql)
    for level, row in sql.items():
        assert int(mf[level]["reentries"]) == row["reentries"], level
        assert close(number(mf[level]["avg_reentry_discount_pct"]),
                     None if row["avg_pct_vs_initial"] is None else float(row["avg_pct_vs_initial"]), 0.0051), level


def test_pnl_with_and_without_reentries(metrics_answers: dict, analyses: dict) -> None:
    mf = {row["position__has_reentries"].lower() == "true": row
          for row in read_csv(metrics_answers["csv_dir"] / "pnl_by_reentries.csv")}
    totals = {row["has_reentries"]: row for row in analyses["realized_pnl_with_and_without_reentries"]}
    closed = {row["has_reentries"]: row for row in analyses["pnl_closed_positions_by_reentries"]}
    assert set(mf) == set(totals)
    for flag in mf:
        assert int(mf[flag]["positions"]) == totals[flag]["positions"]
        assert close(float(mf[flag]["realized_pnl"]), float(totals[flag]["realized_pnl"]), 0.0051)
        assert close(number(mf[flag]["avg_realized_pnl_pct_closed"]), float(closed[flag]["avg_pnl_pct"]), 0.0051)


def test_cap_breaches_per_day(metrics_answers: dict, analyses: dict) -> None:
    mf = {row["metric_time__day"][:10]: (int(row["cap_breaches"]), int(row["book_days_with_reentries"]))
          for row in read_csv(metrics_answers["csv_dir"] / "cap_breaches_per_day.csv")}
    sql = {f"{row['trading_date']:%Y-%m-%d}": (row["cap_breaches"], row["book_days_with_reentries"])
           for row in analyses["cap_breaches_per_day"]}
    assert mf == sql
    record_summary(f"metrics: cap_breaches on {sum(1 for b, _ in mf.values() if b)} of {len(mf)} trading days "
                   "(mf query = analyses/cap_breaches_per_day.sql)")


OUTCOME_COLUMNS = {  # mf column -> analyses column, tolerance of the --decimals 2 rounding
    "closed_cycles": ("closed_cycles", 0),
    "win_rate": ("win_rate", 0.0051),
    "profit_factor": ("profit_factor", 0.0051),
    "gross_profit": ("gross_profit", 0.0051),
    "gross_loss": ("gross_loss", 0.0051),
    "total_reentry_pnl": ("total_reentry_pnl", 0.0051),
    "avg_holding_days": ("avg_holding_days", 0.0051),
}


def assert_outcomes_agree(mf_rows: dict, sql_rows: dict) -> None:
    assert set(mf_rows) == set(sql_rows), (sorted(mf_rows, key=str), sorted(sql_rows, key=str))
    for key, sql in sql_rows.items():
        for mf_column, (sql_column, tolerance) in OUTCOME_COLUMNS.items():
            if mf_column not in mf_rows[key]:
                continue
            expected = None if sql[sql_column] is None else float(sql[sql_column])
            assert close(number(mf_rows[key][mf_column]), expected, tolerance), (key, mf_column)


def test_outcomes_by_reentry_count(metrics_answers: dict, analyses: dict) -> None:
    """R8.7: win rate, profit factor, gross profit and loss, reentry P&L, holding days per reentry bucket."""
    mf = {row["position__reentry_count_bucket"]: row
          for row in read_csv(metrics_answers["csv_dir"] / "outcomes_by_reentry_count.csv")}
    sql = {row["reentry_count_bucket"]: row for row in analyses["outcomes_by_reentry_count"]}
    assert set(sql) <= {"0", "1", "2", "3+"}
    assert_outcomes_agree(mf, sql)
    for bucket, row in sql.items():
        assert close(number(mf[bucket]["net_realized_pnl"]), float(row["net_realized_pnl"]), 0.0051), bucket
    summary = ", ".join(f"{bucket}: win {float(row['win_rate']):.2f}" for bucket, row in sorted(sql.items()))
    record_summary(f"metrics: win rate by reentry count {summary} (mf query = analyses/outcomes_by_reentry_count.sql)")


def test_outcomes_by_exit_reason(metrics_answers: dict, analyses: dict) -> None:
    mf = {row["position__exit_reason"] or None: row
          for row in read_csv(metrics_answers["csv_dir"] / "outcomes_by_exit_reason.csv")}
    sql = {row["exit_reason"]: row for row in analyses["outcomes_by_exit_reason"]}
    assert_outcomes_agree(mf, sql)


def test_outcomes_by_month(metrics_answers: dict, analyses: dict) -> None:
    mf = {row["metric_time__month"][:7]: row for row in read_csv(metrics_answers["csv_dir"] / "outcomes_by_month.csv")}
    sql = {f"{row['closed_month']:%Y-%m}": row for row in analyses["outcomes_by_month"]}
    assert set(mf) == set(sql)
    for month, row in sql.items():
        assert int(mf[month]["closed_cycles"]) == row["closed_cycles"], month
        assert close(number(mf[month]["win_rate"]), float(row["win_rate"]), 0.0051), month
        assert close(number(mf[month]["net_realized_pnl"]), float(row["net_realized_pnl"]), 0.0051), month


def test_max_drawdown_by_user(metrics_answers: dict, analyses: dict) -> None:
    mf = {int(row["daily_pnl__user_id"]): number(row["max_drawdown"])
          for row in read_csv(metrics_answers["csv_dir"] / "max_drawdown_by_user.csv")}
    sql = {row["user_id"]: row for row in analyses["max_drawdown_by_user"]}
    assert set(mf) == set(sql)
    for user, row in sql.items():
        assert row["max_drawdown"] <= 0, user
        assert close(mf[user], float(row["max_drawdown"]), 0.0051), user
