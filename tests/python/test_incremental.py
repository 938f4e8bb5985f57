"""Incremental builds equal full refreshes (issues 4 and 10).

For several seeds: simulate the app, then replay its exports night by night
(night k sees the first k orders exports, the positions exports written by
then, and a history file holding the trades entered by then, rewritten every
night), loading and running dbt incrementally each night. Then the other night
shapes of a real installation, one night each: a quiet night, a late fill of
an old order as its own export, a full dump of the orders (every row of every
export again, with late updates to old orders), the history file rewritten
with changed and new trades, and a full dump of the positions table with
changed rows. After the last night every mart must equal a full refresh of
the same raw data."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pytest

from conftest import BIN, PROJECT, dbt, project_env, python, record_summary, run

SEEDS = [11, 23, 37]
ORDERS = 3000
EXPORT_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})")


NIGHTS = 6


def export_date(path: Path) -> str:
    match = EXPORT_DATE.search(path.name)
    assert match, f"export without a date in its name: {path}"
    return match.group(1)


def history_until(source: Path, target: Path, cutoff: str) -> None:
    document = json.loads(source.read_text())
    document["trades"] = [trade for trade in document["trades"]
                          if str(trade.get("entry_time", ""))[:10] <= cutoff]
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(document, indent=2))


def split_orders(full: Path, staged: Path, cutoffs: list[str]) -> None:
    """Split every orders export into one part per night by the date of placed_at
    (`<export>_part<k>`), so each night adds the orders placed since the last one,
    late versions of old orders included, and file order follows export order."""
    staged.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    try:
        for export in sorted((full / "orders").iterdir()):
            reader = ("read_parquet(?)" if export.suffix == ".parquet"
                      else "read_csv(?, all_varchar=true, header=true)")
            con.execute(f"create or replace temp table export as select * from {reader}", [str(export)])
            lower = "0000-00-00"
            for night, cutoff in enumerate(cutoffs, start=1):
                upper = "9999-99-99" if night == len(cutoffs) else cutoff
                part = staged / f"{export.stem}_part{night}{export.suffix}"
                fmt = "format parquet" if export.suffix == ".parquet" else "format csv, header true"
                con.execute(
                    f"copy (select * from export where coalesce(left(cast(placed_at as varchar), 10), '9999-99-99') > ?"
                    f" and coalesce(left(cast(placed_at as varchar), 10), '9999-99-99') <= ?) to '{part}' ({fmt})",
                    [lower, upper])
                lower = upper
    finally:
        con.close()


def night_folder(full: Path, parts: Path, night: Path, number: int, cutoff: str) -> None:
    """The raw folder as it stood on night `number` (placed_at up to `cutoff`)."""
    (night / "orders").mkdir(parents=True, exist_ok=True)
    for part in sorted(parts.iterdir()):
        if int(part.stem.rsplit("_part", 1)[1]) <= number and not (night / "orders" / part.name).exists():
            shutil.copy2(part, night / "orders" / part.name)
    (night / "positions").mkdir(parents=True, exist_ok=True)
    for export in sorted((full / "positions").iterdir()):
        if export_date(export) <= cutoff and not (night / "positions" / export.name).exists():
            shutil.copy2(export, night / "positions" / export.name)
    for history in (full / "trade_history").rglob("trades_history.json"):
        history_until(history, night / history.relative_to(full), cutoff)


def night_cutoffs(full: Path) -> list[str]:
    con = duckdb.connect()
    try:
        dates = con.execute(
            "select min(d), max(d) from (select cast(left(cast(placed_at as varchar), 10) as date) as d"
            " from read_csv(?, all_varchar=true, header=true, union_by_name=true))",
            [[str(p) for p in sorted((full / "orders").glob("*.csv"))]]).fetchone()
    finally:
        con.close()
    first, last = dates
    step = (last - first) / NIGHTS
    return [str(first + step * (k + 1))[:10] for k in range(NIGHTS)]


def run_night(raw: Path, warehouse: Path, target_path: Path) -> int:
    """Load and run dbt incrementally; returns how many (user, symbol) pairs the run recomputed."""
    python("load_raw.py", "--raw-dir", str(raw), "--warehouse", str(warehouse), "--quiet")
    started = datetime.now(timezone.utc)
    dbt("run", warehouse=warehouse, target_path=target_path)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute("select count(*) from intermediate.int_book_fingerprints where fingerprinted_at >= ?",
                           [started.replace(microsecond=0)]).fetchone()[0]
    finally:
        con.close()


WHOLE_TABLES = ("int_history_trades_attributed", "int_history_reentry_items_deduplicated", "fct_daily_pnl",
                "rpt_entry_type_disagreements", "rpt_entry_type_recorded_vs_derived", "rpt_history_vs_orders",
                "rpt_orders_vs_fills", "rpt_positions_table_vs_derived", "dim_dates")


def latest_build_kinds(warehouse: Path) -> dict[str, str]:
    """model name -> 'full' or 'incremental': how the latest run built each incremental model."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute("""
            select model_id, build_kind from main.dbt_model_code_versions
            where built_at = (select max(built_at) from main.dbt_model_code_versions)
        """).fetchall()
    finally:
        con.close()
    return {model_id.rsplit(".", 1)[-1]: kind for model_id, kind in rows}


def late_fill(warehouse: Path) -> str:
    """A new export holding a new version of an old buy that never filled: now filled."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        row = con.execute("""
            select id, user_id, symbol, side, quantity, coalesce(price, '100'), placed_at, trade_mode
            from raw.orders
            where id in (select cast(order_id as varchar) from marts.fct_orders
                         where side = 'buy' and not is_executed and status = 'pending')
            order by id
            limit 1
        """).fetchone()
    finally:
        con.close()
    assert row, "the simulator writes pending buys"
    order_id, user_id, symbol, side, quantity, price, placed_at, trade_mode = row
    header = "id,user_id,symbol,side,order_type,quantity,price,status,placed_at,updated_at,execution_qty,execution_price,execution_time,trade_mode"
    return (f"{header}\n{order_id},{user_id},{symbol},{side},limit,{quantity},{price},closed,{placed_at},"
            f"2099-01-01 00:00:00,{quantity},{price},{placed_at},{trade_mode or ''}\n")


def full_orders_dump(raw: Path, warehouse: Path) -> str:
    """Every row of every orders export again in one new file (as the app's full dump of its
    table), plus late updates: three old pending buys, now closed and filled."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        late = con.execute("""
            select id from raw.orders
            where id in (select cast(order_id as varchar) from marts.fct_orders
                         where side = 'buy' and not is_executed and status = 'pending')
            order by id limit 3
        """).fetchall()
    finally:
        con.close()
    assert late, "the simulator writes pending buys"
    exports = [str(p) for p in sorted((raw / "orders").iterdir())
               if p.suffix in (".csv", ".parquet") and "_part" in p.name]
    con = duckdb.connect()
    try:
        readers = " union all by name ".join(
            f"select * from {'read_parquet' if e.endswith('.parquet') else 'read_csv'}"
            f"('{e}'{', all_varchar=true, header=true' if e.endswith('.csv') else ''})" for e in exports)
        con.execute(f"create temp table dump as select * from ({readers})")
        ids = ", ".join(f"'{row[0]}'" for row in late)
        con.execute(f"""
            insert into dump by name
            select * replace ('closed' as status, '2099-01-02 00:00:00' as updated_at,
                              quantity as execution_qty, coalesce(price, '100') as execution_price,
                              placed_at as execution_time)
            from (select * from dump where cast(id as varchar) in ({ids})
                  qualify row_number() over (partition by id order by updated_at desc nulls last) = 1)
        """)
        target = raw / "orders" / "orders_9999-12-30_full_dump.csv"
        con.execute(f"copy (select * from dump) to '{target}' (format csv, header true)")
        return ids
    finally:
        con.close()


def rewrite_history(raw: Path) -> int:
    """Rewrite every history file: three closed trades get another exit price, and one
    trade is written again as a new trade an hour later, in the middle of the file."""
    changed = 0
    for history in sorted(raw.rglob("trades_history.json")):
        document = json.loads(history.read_text())
        closed = [t for t in document["trades"] if t.get("status") == "closed" and t.get("exit_price")]
        for trade in closed[:3]:
            trade["exit_price"] = round(float(trade["exit_price"]) * 1.01, 2)
            changed += 1
        if closed:
            copy = dict(closed[-1])
            entry = datetime.fromisoformat(str(copy["entry_time"])).replace(microsecond=0)
            copy["entry_time"] = (entry.replace(hour=min(entry.hour + 1, 23))).isoformat()
            copy["order_id"] = None
            # inserted in the middle: the trades after it move to another row (their ids change)
            document["trades"].insert(len(document["trades"]) // 2, copy)
            changed += 1
        history.write_text(json.dumps(document, indent=2))
    return changed


def full_positions_dump(raw: Path) -> None:
    """Every row of every positions export again in one new file, two open positions now closed."""
    exports = [str(p) for p in sorted((raw / "positions").glob("*.csv"))]
    con = duckdb.connect()
    try:
        con.execute("create temp table dump as select * from read_csv(?, all_varchar=true, header=true,"
                    " union_by_name=true)", [exports])
        con.execute("""
            update dump set closed_at = cast(cast(opened_at as timestamp) + interval 1 day as varchar)
            where id in (select id from dump where closed_at is null and opened_at is not null order by id limit 2)
        """)
        target = raw / "positions" / "positions_9999-12-31_full_dump.csv"
        con.execute(f"copy (select * from dump) to '{target}' (format csv, header true)")
    finally:
        con.close()


def mart_tables(warehouse: Path) -> list[str]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return [row[0] for row in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' order by 1").fetchall()]
    finally:
        con.close()


def differences(incremental: Path, full: Path, table: str) -> tuple[int, int, int]:
    """(rows, rows only in the incremental build, rows only in the full refresh); doubles to 9 digits."""
    con = duckdb.connect()
    try:
        con.execute(f"attach '{incremental}' as inc (read_only)")
        con.execute(f"attach '{full}' as ful (read_only)")
        columns = con.execute(
            "select column_name, data_type from information_schema.columns"
            " where table_catalog = 'inc' and table_schema = 'marts' and table_name = ? order by ordinal_position",
            [table]).fetchall()
        select = ", ".join(f'round("{name}", 9 - cast(ceil(log10(abs("{name}") + 1)) as int)) as "{name}"'
                           if kind == "DOUBLE" else f'"{name}"' for name, kind in columns)
        rows = con.execute(f"select count(*) from inc.marts.{table}").fetchone()[0]
        only_inc = con.execute(f"select count(*) from (select {select} from inc.marts.{table}"
                               f" except all select {select} from ful.marts.{table})").fetchone()[0]
        only_full = con.execute(f"select count(*) from (select {select} from ful.marts.{table}"
                                f" except all select {select} from inc.marts.{table})").fetchone()[0]
        return rows, only_inc, only_full
    finally:
        con.close()


@pytest.mark.parametrize("seed", SEEDS)
def test_incremental_equals_full_refresh(seed: int) -> None:
    root = PROJECT / "target" / "incremental" / str(seed)
    shutil.rmtree(root, ignore_errors=True)
    full_raw = root / "raw"
    python("generate_sample_data.py", "--out", str(full_raw), "--truth", str(root / "truth"),
           "--seed", str(seed), "--orders", str(ORDERS), "--users", "12", "--symbols", "24", "--quiet")

    nights = night_cutoffs(full_raw)
    parts = root / "order_parts"
    split_orders(full_raw, parts, nights)
    night_raw = root / "night_raw"
    incremental = root / "incremental.duckdb"
    recomputed = []
    target_path = root / "target_incremental"
    for number, cutoff in enumerate(nights, start=1):
        night_folder(full_raw, parts, night_raw, number, cutoff)
        recomputed.append(run_night(night_raw, incremental, target_path))

    # A night with nothing new recomputes nothing, and keeps every whole table as it is.
    recomputed.append(run_night(night_raw, incremental, target_path))
    assert recomputed[-1] == 0
    kinds = latest_build_kinds(incremental)
    assert {table: kinds[table] for table in WHOLE_TABLES} == {table: "incremental" for table in WHOLE_TABLES}

    # A late update: an old order that never filled is filled now. Only its pair is recomputed.
    (night_raw / "orders" / "orders_9999-12-31_late.csv").write_text(late_fill(incremental))
    recomputed.append(run_night(night_raw, incremental, target_path))
    assert recomputed[-1] == 1

    # A full dump of the orders table with late updates: only the pairs of the updated orders
    # have new inputs (the repeated rows are the same versions).
    full_orders_dump(night_raw, incremental)
    recomputed.append(run_night(night_raw, incremental, target_path))
    assert recomputed[-1] >= 1

    # The history file rewritten with changed and new trades.
    assert rewrite_history(night_raw) > 0
    recomputed.append(run_night(night_raw, incremental, target_path))

    # A full dump of the positions table, two open positions now closed: the whole tables that read
    # positions (through the pair marts) are rebuilt, those that read only orders and history are kept.
    full_positions_dump(night_raw)
    recomputed.append(run_night(night_raw, incremental, target_path))
    kinds = latest_build_kinds(incremental)
    assert kinds["rpt_positions_table_vs_derived"] == "full" and kinds["fct_daily_pnl"] == "full"
    assert kinds["int_history_trades_attributed"] == "incremental"
    assert kinds["int_history_reentry_items_deduplicated"] == "incremental"

    con = duckdb.connect(str(incremental), read_only=True)
    pairs = con.execute("select count(*) from intermediate.int_book_fingerprints").fetchone()[0]
    con.close()

    full = root / "full.duckdb"
    python("load_raw.py", "--raw-dir", str(night_raw), "--warehouse", str(full), "--quiet")
    dbt("run", "--full-refresh", warehouse=full, target_path=root / "target_full")

    tables = mart_tables(full)
    assert "fct_orders" in tables and "fct_positions" in tables
    report = []
    for table in tables:
        rows, only_incremental, only_full = differences(incremental, full, table)
        report.append(f"{table}={rows}")
        assert (only_incremental, only_full) == (0, 0), (
            f"seed {seed}: {table} differs: {only_incremental} rows only in the incremental build,"
            f" {only_full} only in the full refresh")
    record_summary(f"incremental == full refresh, seed {seed}: {len(nights)} nights, (user, symbol) pairs"
                   f" recomputed per night {recomputed} of {pairs}; {', '.join(report)}")


def test_nightly_tests_check_what_the_night_recomputed() -> None:
    """A data test on a model built incrementally checks the rows that build (re)computed
    (macros/incremental.sql, get_where_subquery): a duplicated row in a recomputed book pair, or in a
    file staged that night, fails it; outside them it is not the night's to test, and
    TEST_SCOPE=all (as a full build) finds it."""
    root = PROJECT / "target" / "incremental" / "scope"
    shutil.rmtree(root, ignore_errors=True)
    raw = root / "raw"
    python("generate_sample_data.py", "--out", str(raw), "--truth", str(root / "truth"),
           "--seed", "5", "--orders", "1500", "--users", "6", "--symbols", "12", "--quiet")
    warehouse = root / "warehouse.duckdb"
    target_path = root / "target"
    run_night(raw, warehouse, target_path)
    (raw / "orders" / "orders_9999-12-31_late.csv").write_text(late_fill(warehouse))
    assert run_night(raw, warehouse, target_path) == 1

    def duplicate_a_row(table: str, inside: bool) -> None:
        slices = {
            "marts.fct_orders": """
                (user_id, base_symbol) in (
                    select user_id, base_symbol from intermediate.int_book_fingerprints
                    where fingerprinted_at = (select max(built_at) from main.dbt_model_code_versions
                                              where model_id = 'model.trading_warehouse.fct_orders'))""",
            "staging.stg_trading_app__orders": "source_file = 'orders/orders_9999-12-31_late.csv'",
        }
        con = duckdb.connect(str(warehouse))
        try:
            con.execute(f"""
                insert into {table}
                select * from {table} where {'' if inside else 'not '}{slices[table]}
                order by all limit 1
            """)
        finally:
            con.close()

    def grain_test(model: str, **env: str) -> subprocess.CompletedProcess[str]:
        return run([str(BIN / "dbt"), "test", "--select", f"{model},test_name:unique_combination",
                    "--target-path", str(target_path)],
                   env=project_env(WAREHOUSE=str(warehouse), **env), check=False)

    for table, test in (("marts.fct_orders", "unique_combination_fct_orders_source_name__order_id"),
                        ("staging.stg_trading_app__orders",
                         "unique_combination_stg_trading_app__orders_source_name__source_file__source_row")):
        model = table.split(".")[1]
        assert grain_test(model).returncode == 0
        duplicate_a_row(table, inside=False)
        assert grain_test(model).returncode == 0, f"{table}: a duplicate outside the night's rows is not the night's to test"
        everything = grain_test(model, TEST_SCOPE="all")
        assert everything.returncode != 0 and test in everything.stdout
        duplicate_a_row(table, inside=True)
        night = grain_test(model)
        assert night.returncode != 0 and test in night.stdout

    # A var read by one model (trade_match_minutes: R4.1, in int_history_trades_attributed) is part of
    # the code version of every model downstream of it, however far: a night with another value
    # rebuilds them all in full, and only them.
    dbt("run", "--vars", "{trade_match_minutes: 31}", warehouse=warehouse, target_path=target_path)
    kinds = latest_build_kinds(warehouse)
    downstream = ("int_history_trades_attributed", "int_orders_entry_typed", "fct_orders", "fct_positions",
                  "fct_daily_pnl", "rpt_history_vs_orders")
    assert {model: kinds[model] for model in downstream} == {model: "full" for model in downstream}
    assert kinds["int_orders_deduplicated"] == "incremental" and kinds["stg_trading_app__orders"] == "incremental"
