#!/usr/bin/env python3
"""Run the floor (benchmarks/floor.sql) in one DuckDB session, straight from a raw folder.

The floor reads the raw folder itself (orders CSV/Parquet exports, every
trades_history.json, whose trades array it streams from a temporary copy;
no loader, no `raw` schema) and writes the four trading
marts as tables fct_orders, fct_positions, fct_reentries, fct_daily_reentries
into --out (a DuckDB file; default in memory). Prints their row counts as JSON
on the last line. Hand-written SQL from shared/spec/rules.md, not the project's
compiled models: it measures what the work costs, not what dbt costs.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from history_bytes import copy_span, trades_array_span

HERE = Path(__file__).resolve().parent
MARTS = ("fct_orders", "fct_positions", "fct_reentries", "fct_daily_reentries")


def sql_list(paths: list[Path]) -> str:
    return "[" + ", ".join("'" + str(path).replace("'", "''") + "'" for path in paths) + "]"


def trades_array(history: Path, out: Path) -> None:
    """Write the `trades` array of a history file to `out`: streamed when the app wrote
    the file with indent=2 (history_bytes.py), any other layout parsed whole."""
    span = trades_array_span(history)
    if span is None:
        out.write_text(json.dumps(json.loads(history.read_bytes()).get("trades") or []))
        return
    with out.open("wb") as target:
        copy_span(history, *span, target)


def script(raw: Path, workdir: Path) -> str:
    csv = sorted((raw / "orders").glob("*.csv"))
    parquet = sorted((raw / "orders").glob("*.parquet"))
    history = sorted((raw / "trade_history").rglob("trades_history.json"))
    if not (csv or parquet) or not history:
        raise SystemExit(f"floor: {raw} has no orders exports or no trades_history.json")
    parts = []
    if csv:
        parts.append(f"select * from read_csv({sql_list(csv)}, all_varchar = true, header = true,"
                     " union_by_name = true, filename = true)")
    if parquet:
        parts.append(f"select columns(*)::varchar from read_parquet({sql_list(parquet)}, union_by_name = true,"
                     " filename = true)")
    arrays = []
    for number, path in enumerate(history):
        array = workdir / f"trades_{number}.json"
        trades_array(path, array)
        arrays.append(f"select {sql_list([path])[1:-1]} as filename, json as trade, ordinality as trade_index"
                      f" from read_json_objects({sql_list([array])[1:-1]}, format = 'array') with ordinality")
    text = (HERE / "floor.sql").read_text()
    return (text.replace("{orders_union}", "\n        union all by name\n        ".join(parts))
            .replace("{history_arrays}", "\n        union all\n        ".join(arrays))
            .replace("{{", "{").replace("}}", "}"))


def statements(text: str) -> list[str]:
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("--")]
    return [statement for statement in "\n".join(lines).split(";\n") if statement.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--raw", type=Path, required=True, help="raw folder (orders/, trade_history/)")
    parser.add_argument("--out", default=":memory:", help="DuckDB file for the marts (default: in memory)")
    parser.add_argument("--memory-limit", default="3GB")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args(argv)
    started = time.monotonic()
    con = duckdb.connect(str(args.out))
    con.execute(f"set memory_limit = '{args.memory_limit}'")
    con.execute("set TimeZone = 'Asia/Kolkata'")
    con.execute("set preserve_insertion_order = false")
    if args.threads:
        con.execute(f"set threads = {args.threads}")
    with tempfile.TemporaryDirectory(prefix="floor_") as workdir:
        for statement in statements(script(args.raw, Path(workdir))):
            con.execute(statement)
    counts = {mart: con.execute(f"select count(*) from {mart}").fetchone()[0] for mart in MARTS}
    con.close()
    print(json.dumps({"seconds": round(time.monotonic() - started, 2), "rows": counts}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
