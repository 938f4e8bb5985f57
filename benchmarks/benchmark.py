#!/usr/bin/env python3
"""Benchmark the warehouse against its floor and against the app's own way.

Generates data at a given size (default 10 million orders, 1 million history
trades), holds back the last day of orders as "tomorrow's export", and
prints, for the project:
  - load time (all exports) and the history file's own load time and size,
  - full `dbt run` and full `dbt build` time,
  - nightly incremental time for one new day (load + `dbt run`, and `dbt build`),
  - peak memory (max RSS of any step; DuckDB memory_limit set, spilling allowed);
and for two baselines on the same data:
  (a) the floor: the same models' compiled SQL run back to back in one DuckDB
      session (no dbt, no tests, no views: every model a table),
  (b) the app's way: json.load of trades_history.json and Python loops
      counting reentries per trade;
then the ratios against the targets of issue 4. Figures are printed and
written to <workdir>/results.json. Not a test: nothing here asserts.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def run(name: str, command: list[str], env: dict[str, str], results: dict) -> float:
    """Run a step, record its wall time and peak RSS (of the step's own process tree root)."""
    print(f"[bench] {name}: {' '.join(command[:4])} ...", flush=True)
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=PROJECT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    output, _ = process.communicate()
    seconds = time.monotonic() - started
    peak = peak_rss_mb()
    if process.returncode != 0:
        print(output[-4000:])
        raise SystemExit(f"[bench] {name} failed (exit {process.returncode})")
    results["steps"][name] = {"seconds": round(seconds, 2)}
    print(f"[bench] {name}: {seconds:.1f}s (peak RSS so far {peak:.0f} MB)", flush=True)
    return seconds


def peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def hold_back_last_day(raw: Path, held: Path) -> str:
    """Move the orders placed on the last day of the newest export into tomorrow's export."""
    import duckdb

    newest = sorted((raw / "orders").iterdir())[-1]
    reader = "read_parquet(?)" if newest.suffix == ".parquet" else "read_csv(?, all_varchar=true, header=true)"
    fmt = "format parquet" if newest.suffix == ".parquet" else "format csv, header true"
    con = duckdb.connect()
    try:
        con.execute(f"create temp table export as select * from {reader}", [str(newest)])
        last_day = con.execute("select max(left(cast(placed_at as varchar), 10)) from export").fetchone()[0]
        held.mkdir(parents=True, exist_ok=True)
        tomorrow = held / f"{newest.stem}_next_day{newest.suffix}"
        con.execute(f"copy (select * from export where left(cast(placed_at as varchar), 10) = ?) to '{tomorrow}' ({fmt})",
                    [last_day])
        rest = newest.with_name(f"{newest.stem}_until_last_day{newest.suffix}")
        con.execute(f"copy (select * from export where left(cast(placed_at as varchar), 10) < ?) to '{rest}' ({fmt})",
                    [last_day])
        held_rows = con.execute("select count(*) from export where left(cast(placed_at as varchar), 10) = ?",
                                [last_day]).fetchone()[0]
    finally:
        con.close()
    newest.unlink()
    print(f"[bench] held back {held_rows} order rows placed on {last_day} as tomorrow's export", flush=True)
    return last_day


def floor_script(target_path: Path) -> str:
    """The compiled (full-refresh) SQL of every model, in dependency order, run
    as plain DuckDB statements: views stay views, everything else a table, in
    schema flr; sources are read from the raw schema of the same file."""
    manifest = json.loads((target_path / "manifest.json").read_text())
    nodes = {key: node for key, node in manifest["nodes"].items() if node["resource_type"] == "model"}
    order: list[str] = []
    seen: set[str] = set()

    def visit(key: str) -> None:
        if key in seen or key not in nodes:
            return
        seen.add(key)
        for parent in nodes[key]["depends_on"]["nodes"]:
            visit(parent)
        order.append(key)

    for key in sorted(nodes):
        visit(key)
    statements = ["create schema if not exists flr"]
    for key in order:
        node = nodes[key]
        sql = node["compiled_code"]
        for other in order:
            sql = sql.replace(nodes[other]["relation_name"], f'flr."{nodes[other]["name"]}"')
        sql = sql.replace(f'"{node["database"]}".', "")
        kind = "view" if node["config"]["materialized"] == "view" else "table"
        statements.append(f'create or replace {kind} flr."{node["name"]}" as {sql}')
    return ";\n".join(statements)


def app_way(history: Path) -> dict:
    """What the app does: load the whole file, loop over trades, count reentries."""
    started = time.monotonic()
    with history.open() as handle:
        document = json.load(handle)
    loaded = time.monotonic()
    counts: dict[str, int] = {}
    for trade in document["trades"]:
        symbol = trade.get("symbol")
        reentries = trade.get("reentries") or []
        counts[symbol] = counts.get(symbol, 0) + len(reentries)
    import resource

    return {"json_load_seconds": round(loaded - started, 2), "seconds": round(time.monotonic() - started, 2),
            "trades": len(document["trades"]), "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=10_000_000, help="orders to simulate (default 10 million)")
    parser.add_argument("--history-trades", type=int, default=1_000_000, help="history trades (default 1 million)")
    parser.add_argument("--small", action="store_true", help="a quick run: 100k orders, 10k history trades")
    parser.add_argument("--workdir", type=Path, default=PROJECT / "target" / "benchmark")
    parser.add_argument("--memory-limit", default="3GB", help="DuckDB memory_limit (default 3GB: peak RSS stays under 4 GB)")
    parser.add_argument("--reuse-data", action="store_true", help="keep generated data from an earlier run")
    args = parser.parse_args(argv)
    if args.small:
        args.orders, args.history_trades = 100_000, 10_000

    work = args.workdir
    raw, held = work / "raw", work / "held_back"
    warehouse = work / "warehouse.duckdb"
    target_path = work / "dbt_target"
    env = dict(os.environ, DBT_SEND_ANONYMOUS_USAGE_STATS="false", DBT_PROFILES_DIR=str(PROJECT),
               WAREHOUSE=str(warehouse), DUCKDB_MEMORY_LIMIT=args.memory_limit)
    results: dict = {"orders": args.orders, "history_trades": args.history_trades, "steps": {},
                     "machine": f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}",
                     "date": time.strftime("%Y-%m-%d")}

    if not (args.reuse_data and raw.exists()):
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        run("generate", [str(BIN / "python"), "scripts/generate_sample_data.py", "--out", str(raw), "--truth",
                         str(work / "truth"), "--orders", str(args.orders), "--history-trades",
                         str(args.history_trades), "--quiet"], env, results)
        hold_back_last_day(raw, held)
    for path in (warehouse, Path(f"{warehouse}.wal")):
        path.unlink(missing_ok=True)

    history = raw / "trade_history" / "trades_history.json"
    results["history_file_mb"] = round(history.stat().st_size / 1e6)
    history_only = work / "history_only"
    shutil.rmtree(history_only, ignore_errors=True)
    (history_only / "trade_history").mkdir(parents=True)
    os.link(history, history_only / "trade_history" / "trades_history.json")
    run("load history file", [str(BIN / "python"), "scripts/load_raw.py", "--raw-dir", str(history_only),
                              "--warehouse", str(work / "history_only.duckdb"), "--quiet",
                              "--memory-limit", args.memory_limit], env, results)

    run("load", [str(BIN / "python"), "scripts/load_raw.py", "--raw-dir", str(raw), "--warehouse", str(warehouse),
                 "--quiet", "--memory-limit", args.memory_limit], env, results)
    run("dbt run (full)", [str(BIN / "dbt"), "run", "--target-path", str(target_path)], env, results)
    shutil.copy(warehouse, work / "after_full_run.duckdb")
    run("dbt build (full, with tests)", [str(BIN / "dbt"), "build", "--full-refresh", "--target-path",
                                         str(target_path)], env, results)
    shutil.copy(warehouse, work / "after_full_build.duckdb")

    for export in held.iterdir():
        shutil.copy2(export, raw / "orders" / export.name)
    run("nightly load (one new day)", [str(BIN / "python"), "scripts/load_raw.py", "--raw-dir", str(raw),
                                       "--warehouse", str(warehouse), "--quiet"], env, results)
    run("nightly dbt run (incremental)", [str(BIN / "dbt"), "run", "--target-path", str(target_path)], env, results)
    shutil.copy(work / "after_full_build.duckdb", warehouse)
    run("nightly load again (on the full build)", [str(BIN / "python"), "scripts/load_raw.py", "--raw-dir", str(raw),
                                                   "--warehouse", str(warehouse), "--quiet"], env, results)
    run("nightly dbt build (incremental, with tests)", [str(BIN / "dbt"), "build", "--target-path",
                                                        str(target_path)], env, results)

    # (a) the floor: the same SQL in one DuckDB session.
    floor_db = work / "floor.duckdb"
    shutil.copy(work / "after_full_run.duckdb", floor_db)
    compile_path = work / "dbt_compile_full"
    run("compile (full-refresh SQL for the floor)", [str(BIN / "dbt"), "compile", "--full-refresh",
                                                     "--target-path", str(compile_path)], env, results)
    script = work / "floor.sql"
    script.write_text(floor_script(compile_path))
    floor_code = (
        "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]);"
        f" con.execute(\"set memory_limit='{args.memory_limit}'\"); con.execute(\"set TimeZone='Asia/Kolkata'\");"
        " con.execute(\"set preserve_insertion_order=false\");"
        " [con.execute(s) for s in open(sys.argv[2]).read().split(';\\n') if s.strip()]"
    )
    run("floor (same SQL, one DuckDB session)", [str(BIN / "python"), "-c", floor_code, str(floor_db), str(script)],
        env, results)

    # (b) the app's way.
    print("[bench] app's way: json.load + Python loops ...", flush=True)
    code = f"import json, sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); import benchmark;" \
           f" print(json.dumps(benchmark.app_way(__import__('pathlib').Path({str(history)!r}))))"
    app = subprocess.run([str(BIN / "python"), "-c", code], capture_output=True, text=True, check=True)
    results["app_way"] = json.loads(app.stdout.strip().splitlines()[-1])
    results["peak_rss_mb"] = round(peak_rss_mb())

    steps = {name: step["seconds"] for name, step in results["steps"].items()}
    nightly = steps["nightly load (one new day)"] + steps["nightly dbt run (incremental)"]
    ratios = {
        "dbt run / floor (target <= 1.5)": steps["dbt run (full)"] / steps["floor (same SQL, one DuckDB session)"],
        "nightly (load + incremental run) / full dbt run (target <= 0.10)": nightly / steps["dbt run (full)"],
        "nightly incremental build / full build": steps["nightly dbt build (incremental, with tests)"]
        / steps["dbt build (full, with tests)"],
        "history file load seconds (target <= 5 s for 500 MB)": steps["load history file"],
        "peak memory GB (target <= 4)": results["peak_rss_mb"] / 1024,
        "app's way / floor": results["app_way"]["seconds"] / steps["floor (same SQL, one DuckDB session)"],
    }
    results["ratios"] = {name: round(value, 3) for name, value in ratios.items()}
    (work / "results.json").write_text(json.dumps(results, indent=2))

    print(f"\nBenchmark {results['date']}, {results['machine']}: {args.orders:,} orders requested,"
          f" {args.history_trades:,} history trades, history file {results['history_file_mb']} MB")
    for name, seconds in steps.items():
        print(f"  {name:<48} {seconds:>9.1f} s")
    print(f"  {'app way: json.load + loops':<48} {results['app_way']['seconds']:>9.1f} s"
          f"  (json.load {results['app_way']['json_load_seconds']} s, {results['app_way']['peak_rss_mb']} MB RSS)")
    print(f"  {'peak RSS of any step':<48} {results['peak_rss_mb']:>9} MB")
    for name, value in results["ratios"].items():
        print(f"  {name:<70} {value:>8.3f}")
    print(f"\nresults: {work / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
