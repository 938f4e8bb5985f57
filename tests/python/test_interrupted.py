"""Interrupted runs leave nothing stale, lost or doubled (issue 13).

- `dbt build` killed (SIGKILL of its process group) at several points of a
  nightly incremental run, then run again, gives the same marts as one clean
  build: the incremental state (int_book_fingerprints) is committed only once
  the models it describes are built, so a killed run is recomputed.
- `load_raw.py` killed mid-file at several moments, then run again, gives the
  same raw tables and load log as one clean load: each file is one transaction.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from conftest import BIN, PROJECT, dbt, project_env, python
from test_incremental import differences, mart_tables, night_cutoffs, night_folder, split_orders

ROOT = PROJECT / "target" / "interrupted"


@pytest.fixture(scope="module")
def nights() -> dict[str, Path]:
    """Night 1 built incrementally (the base), night 2's raw folder, and a clean build of night 2."""
    shutil.rmtree(ROOT, ignore_errors=True)
    full_raw = ROOT / "raw"
    python("generate_sample_data.py", "--out", str(full_raw), "--truth", str(ROOT / "truth"),
           "--seed", "41", "--orders", "2000", "--users", "8", "--symbols", "16", "--quiet")
    cutoffs = night_cutoffs(full_raw)
    cutoffs = [cutoffs[2], cutoffs[-1]]
    parts = ROOT / "order_parts"
    split_orders(full_raw, parts, cutoffs)
    night_1, night_2 = ROOT / "night_1", ROOT / "night_2"
    night_folder(full_raw, parts, night_1, 1, cutoffs[0])
    night_folder(full_raw, parts, night_2, 2, cutoffs[1])
    base = ROOT / "base.duckdb"
    python("load_raw.py", "--raw-dir", str(night_1), "--warehouse", str(base), "--quiet")
    dbt("run", warehouse=base, target_path=ROOT / "target_base")
    clean = ROOT / "clean.duckdb"
    python("load_raw.py", "--raw-dir", str(night_2), "--warehouse", str(clean), "--quiet")
    dbt("run", warehouse=clean, target_path=ROOT / "target_clean")
    return {"base": base, "night_2": night_2, "clean": clean}


def build_killed_after(warehouse: Path, target_path: Path, model: str) -> None:
    """Start `dbt build` and SIGKILL its process group as soon as `model` is built."""
    env = project_env(WAREHOUSE=str(warehouse), DBT_TARGET="duckdb")
    process = subprocess.Popen([str(BIN / "dbt"), "build", "--target-path", str(target_path)], cwd=PROJECT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    seen = []
    deadline = time.monotonic() + 600
    try:
        for line in process.stdout:
            seen.append(line)
            if ("OK created" in line and f".{model} " in line) or time.monotonic() > deadline:
                os.killpg(process.pid, signal.SIGKILL)
                break
    finally:
        process.wait()
    assert process.returncode == -signal.SIGKILL, "".join(seen[-30:])
    assert any(f".{model} " in line for line in seen), "".join(seen[-30:])


@pytest.mark.parametrize("model", ["int_book_fingerprints", "int_book_events_walked", "fct_orders"])
def test_build_killed_and_rerun_equals_a_clean_build(nights: dict[str, Path], model: str) -> None:
    warehouse = ROOT / f"killed_after_{model}.duckdb"
    shutil.copy2(nights["base"], warehouse)
    python("load_raw.py", "--raw-dir", str(nights["night_2"]), "--warehouse", str(warehouse), "--quiet")
    target_path = ROOT / f"target_{model}"
    build_killed_after(warehouse, target_path, model)
    dbt("build", warehouse=warehouse, target_path=target_path)  # the rerun, every test included
    tables = mart_tables(nights["clean"])
    assert "fct_orders" in tables and "fct_positions" in tables
    stale = {table: diff for table in tables
             if (diff := differences(warehouse, nights["clean"], table))[1:] != (0, 0)}
    assert not stale, f"marts differ from a clean build after a kill at {model}: {stale}"


# ---------------------------------------------------------------- the loader
RAW_TABLES = ["orders", "positions", "history_trades", "history_reentry_items", "rejected_lines"]


def big_history(path: Path, trades: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    records = [{"symbol": f"SYM{i % 50}", "entry_price": 100 + i % 7, "entry_time": "2025-01-02T09:20:00",
                "qty": 12, "status": "closed", "exit_price": 110, "exit_time": "2025-01-08T14:00:00",
                "reentries": [{"qty": 1, "level": 30, "rsi": 25.5, "price": 99, "time": "2025-01-03T10:00:00"}] * 2,
                "note": "x" * 200} for i in range(trades)]
    path.write_text(json.dumps({"trades": records, "failed_orders": [], "last_run": "2025-11-20T09:15:02"},
                               indent=2))


def raw_snapshot(warehouse: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        snapshot = {}
        for table in RAW_TABLES:
            columns = [row[0] for row in con.execute(
                "select column_name from information_schema.columns where table_schema = 'raw' and table_name = ?"
                " and column_name <> '_loaded_at' order by ordinal_position", [table]).fetchall()]
            snapshot[table] = sorted(con.execute(f"select {', '.join(columns)} from raw.{table}").fetchall(),
                                     key=repr)
        snapshot["load_log"] = sorted(con.execute(
            "select source_file, kind, content_hash, rows_loaded, action from raw.load_log").fetchall())
        return snapshot
    finally:
        con.close()


@pytest.fixture(scope="module")
def loader_raw() -> Path:
    raw = ROOT / "loader_raw"
    shutil.rmtree(raw, ignore_errors=True)
    source = ROOT / "raw"
    if not source.exists():
        python("generate_sample_data.py", "--out", str(source), "--truth", str(ROOT / "truth"),
               "--seed", "41", "--orders", "2000", "--quiet")
    shutil.copytree(source, raw)
    big_history(raw / "trade_history" / "user_1" / "trades_history.json", 150_000)
    big_history(raw / "trade_history" / "user_2" / "trades_history.json", 20_000)
    return raw


@pytest.mark.parametrize("delay", [0.4, 0.8, 1.2, 1.6])
def test_loader_killed_mid_file_and_rerun_equals_a_clean_load(loader_raw: Path, delay: float) -> None:
    clean = ROOT / "loader_clean.duckdb"
    if not clean.exists():
        python("load_raw.py", "--raw-dir", str(loader_raw), "--warehouse", str(clean), "--quiet")
    warehouse = ROOT / f"loader_killed_{delay}.duckdb"
    for leftover in (warehouse, Path(f"{warehouse}.wal")):
        leftover.unlink(missing_ok=True)
    process = subprocess.Popen([sys.executable, str(PROJECT / "scripts" / "load_raw.py"), "--raw-dir", str(loader_raw),
                                "--warehouse", str(warehouse), "--quiet"], cwd=PROJECT, env=project_env(),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    time.sleep(delay)
    finished = process.poll() is not None
    if not finished:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    if not finished:
        print(f"killed after {delay}s", file=sys.stderr)
    python("load_raw.py", "--raw-dir", str(loader_raw), "--warehouse", str(warehouse), "--quiet")
    assert raw_snapshot(warehouse) == raw_snapshot(clean), f"killed after {delay}s (finished: {finished})"
