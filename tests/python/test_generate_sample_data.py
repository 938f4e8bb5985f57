"""Tests for scripts/generate_sample_data.py (the seeded app simulator).

Besides layout, determinism and quirk coverage, these tests re-derive the
truth from the raw files with the independent reference implementation of the
rules (``tests/python/reference.py``, which ``test_reference.py`` also holds
the marts to) and require it to agree with the truth files: the generator's
promise to the warehouse's end-to-end test.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterator, Optional

import duckdb
import pytest

import reference

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "generate_sample_data.py"
SMALL = ["--orders", "3000", "--quiet"]
PARAMS = reference.load_params()

ORDERS_TRUTH_COLS = ["order_id", "user_id", "base_symbol", "trade_mode", "entry_type",
                     "cycle_number", "is_executed"]
POSITIONS_TRUTH_COLS = ["user_id", "base_symbol", "trade_mode", "cycle_number",
                        "opening_order_id", "reentry_count", "total_bought_qty", "status"]


# --------------------------------------------------------------------------
# Running the generator
# --------------------------------------------------------------------------


def run_generator(out: Path, truth: Path, *extra: str,
                  check: bool = True) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, str(SCRIPT), "--out", str(out), "--truth", str(truth), *extra]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def tree_digest(*folders: Path) -> dict[str, str]:
    digest = {}
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                rel = f"{folder.name}/{path.relative_to(folder)}"
                digest[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digest


@pytest.fixture(scope="session")
def sample(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("sample")
    out, truth = base / "raw", base / "truth"
    proc = run_generator(out, truth, "--seed", "42", *SMALL)
    assert proc.stdout.count("\n") == 1
    assert all(word in proc.stdout for word in ("raw files", "orders", "history trades"))
    return {"base": base, "out": out, "truth": truth}


# --------------------------------------------------------------------------
# Reading the raw files
# --------------------------------------------------------------------------


def parse_ts(value: Any) -> Optional[dt.datetime]:
    """An instant (R1.7: naive values are India time)."""
    return reference.instant(value, PARAMS)


def base_symbol(symbol: str) -> str:
    """R1.1."""
    return reference.base_symbol(symbol, PARAMS)


def read_export(path: Path) -> tuple[list[str], list[tuple[Any, ...]]]:
    con = duckdb.connect()
    try:
        if path.suffix == ".csv":
            rel = con.sql(f"select * from read_csv('{path}', all_varchar=true, header=true)")
        else:
            rel = con.sql(f"select * from read_parquet('{path}')")
        return list(rel.columns), rel.fetchall()
    finally:
        con.close()


def order_files(out: Path) -> list[Path]:
    return sorted((out / "orders").iterdir(), key=lambda p: p.name)


def all_order_rows(out: Path) -> Iterator[tuple[int, int, dict[str, Any]]]:
    """(file index, row index, row) for every row of every export, load order."""
    for fi, path in enumerate(order_files(out)):
        cols, rows = read_export(path)
        for ri, row in enumerate(rows):
            yield fi, ri, dict(zip(cols, row))


def history_files(out: Path) -> list[tuple[Optional[int], Path]]:
    return reference.history_files(out)


def read_truth(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def counters(d: reference.Derivation) -> dict[str, int]:
    """How often the reference met each case of R2 / R4.1 / R6 on a raw folder."""
    closes = [c.close_source for c in d.cycles.values()]
    typed = d.typed.values()
    return {
        "positions_closes": closes.count("positions_table"),
        "history_closes": closes.count("trade_history"),
        "orphans": sum(t.is_orphan_exit for t in typed),
        "attached": sum(t.is_attached_exit for t in typed),
        "oversold": sum(t.oversold_qty > 0 and not (t.is_orphan_exit or t.is_attached_exit)
                        for t in typed),
        "unattributed": d.unattributed,
    }


def compare(out: Path, truth: Path) -> dict[str, Any]:
    """Reference derivation (tests/python/reference.py) vs truth: mismatches."""
    d = reference.derive(out, PARAMS)
    bad_orders = []
    truth_rows = read_truth(truth / "orders_truth.csv")
    for row in truth_rows:
        oid = int(row["order_id"])
        o, t = d.orders.get(oid), d.typed.get(oid)
        if o is None or t is None:
            bad_orders.append((oid, "missing"))
            continue
        want_cycle = int(row["cycle_number"]) if row["cycle_number"] else None
        got = (o.user_id, o.base_symbol, o.trade_mode, t.entry_type, t.cycle_number,
               "true" if o.is_executed else "false")
        want = (int(row["user_id"]), row["base_symbol"], row["trade_mode"],
                row["entry_type"], want_cycle, row["is_executed"])
        if got != want:
            bad_orders.append((oid, got, want))
    bad_cycles = []
    pos_rows = read_truth(truth / "positions_truth.csv")
    for row in pos_rows:
        key = (int(row["user_id"]), row["base_symbol"], row["trade_mode"],
               int(row["cycle_number"]))
        pos = d.positions.get(key)
        want = (int(row["opening_order_id"]), int(row["reentry_count"]),
                float(row["total_bought_qty"]), row["status"])
        got = None if pos is None else (pos.initial_order_id, pos.reentry_count,
                                        float(pos.total_bought_qty), pos.status)
        if got != want:
            bad_cycles.append((key, got, want))
    return {"orders": len(truth_rows), "bad_orders": bad_orders,
            "cycles": len(pos_rows), "extra_cycles": len(d.positions) - len(pos_rows),
            "bad_cycles": bad_cycles, "counters": counters(d), "derive": d}



# --------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------


def test_help() -> None:
    proc = subprocess.run([sys.executable, str(SCRIPT), "--help"], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0
    for flag in ("--out", "--truth", "--seed", "--orders", "--users", "--symbols",
                 "--history-trades", "--quiet"):
        assert flag in proc.stdout


def test_same_seed_is_byte_identical(sample: dict[str, Path], tmp_path: Path) -> None:
    run_generator(tmp_path / "raw", tmp_path / "truth", "--seed", "42", *SMALL)
    first = tree_digest(sample["out"], sample["truth"])
    second = tree_digest(tmp_path / "raw", tmp_path / "truth")
    assert first == second


def test_different_seed_differs(sample: dict[str, Path], tmp_path: Path) -> None:
    run_generator(tmp_path / "raw", tmp_path / "truth", "--seed", "7", *SMALL)
    first = tree_digest(sample["out"], sample["truth"])
    second = tree_digest(tmp_path / "raw", tmp_path / "truth")
    assert first.keys() != second.keys() or first != second
    assert first.get("truth/orders_truth.csv") != second.get("truth/orders_truth.csv")


def test_rerun_wipes_previous_output(sample: dict[str, Path], tmp_path: Path) -> None:
    out, truth = tmp_path / "raw", tmp_path / "truth"
    run_generator(out, truth, "--seed", "1", *SMALL)
    run_generator(out, truth, "--seed", "42", *SMALL)
    assert tree_digest(out, truth) == tree_digest(sample["out"], sample["truth"])


def test_refuses_foreign_folders(tmp_path: Path) -> None:
    out = tmp_path / "raw"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    proc = run_generator(out, tmp_path / "truth", *SMALL, check=False)
    assert proc.returncode != 0
    assert "notes.txt" in proc.stderr and "refusing" in proc.stderr
    assert (out / "notes.txt").read_text() == "keep me"
    a_file = tmp_path / "file"
    a_file.write_text("x")
    proc = run_generator(a_file, tmp_path / "truth2", *SMALL, check=False)
    assert proc.returncode != 0 and "not a directory" in proc.stderr
    assert a_file.read_text() == "x"


def test_layout_matches_raw_data_spec(sample: dict[str, Path]) -> None:
    out = sample["out"]
    assert sorted(p.name for p in out.iterdir()) == ["orders", "positions", "trade_history"]
    files = order_files(out)
    names = [p.name for p in files]
    assert len(files) >= 4
    assert all(n.startswith("orders_") for n in names)
    assert {p.suffix for p in files} == {".csv", ".parquet"}
    columns = [read_export(p)[0] for p in files]
    older = [c for c in columns if "trade_mode" not in c]
    newer = [c for c in columns if "trade_mode" in c]
    assert older and newer
    assert columns.index(older[-1]) < columns.index(newer[0])  # older exports sort first
    assert all(p.suffix == ".csv" for p, c in zip(files, columns) if "trade_mode" not in c)
    for cols in older:
        assert "failure_reason" in cols and "metadata" in cols
        for missing in ("execution_price", "execution_qty", "execution_time", "updated_at",
                        "entry_type", "trade_mode", "reason"):
            assert missing not in cols
    for cols in newer:
        for present in ("execution_price", "execution_qty", "execution_time", "updated_at",
                        "entry_type", "trade_mode", "reason", "order_id", "broker_order_id"):
            assert present in cols
    assert any("client_tag" in c for c in columns)
    positions = sorted(p.name for p in (out / "positions").iterdir())
    assert len(positions) >= 2 and all(n.startswith("positions_") for n in positions)
    with open(out / "positions" / positions[-1], newline="") as f:
        header = next(csv.reader(f))
    assert "reentry_count" in header and "reentries" in header
    history = history_files(out)
    assert history[0][1].exists() and len(history) >= 2
    truth = sample["truth"]
    assert sorted(p.name for p in truth.iterdir()) == ["orders_truth.csv", "positions_truth.csv"]
    with open(truth / "orders_truth.csv", newline="") as f:
        assert next(csv.reader(f)) == ORDERS_TRUTH_COLS
    with open(truth / "positions_truth.csv", newline="") as f:
        assert next(csv.reader(f)) == POSITIONS_TRUTH_COLS


def test_history_json_is_json_dump_indent_2(sample: dict[str, Path]) -> None:
    for _, path in history_files(sample["out"]):
        text = path.read_text(encoding="utf-8")
        doc = json.loads(text)
        assert list(doc) == ["trades", "failed_orders", "last_run"]
        assert json.dumps(doc, indent=2) == text
        for trade in doc["trades"]:
            assert "user_id" not in trade and trade["symbol"] == base_symbol(trade["symbol"])
            assert trade.get("entry_type") != "reentry"
            initial = trade["qty"] - sum(i["qty"] for i in trade["reentries"])
            assert initial > 0


def test_streamed_history_writer_matches_json_dump(tmp_path: Path) -> None:
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        import generate_sample_data as gen
    finally:
        sys.path.pop(0)
    doc: dict[str, Any] = {
        "trades": [{"symbol": "M&M", "qty": 3, "reentries": [], "x": {"a": [1, 2.5]},
                    "s": 'quote " and \u00e9'}, {"symbol": "TCS", "reentries": [{"qty": 1}]}],
        "failed_orders": [], "last_run": "2025-11-20T09:15:02.123456"}
    hist = gen.HistoryFile(tmp_path / "h.json", tmp_path, "t")
    for trade in doc["trades"]:
        hist.add_trade(trade)
    hist.finish(doc["last_run"])
    gen.write_history_document(tmp_path / "ref.json", doc)
    assert (tmp_path / "h.json").read_bytes() == (tmp_path / "ref.json").read_bytes()


def test_truth_files_are_consistent(sample: dict[str, Path]) -> None:
    out, truth = sample["out"], sample["truth"]
    ids_in_exports = {int(row["id"]) for _, _, row in all_order_rows(out)}
    orders = read_truth(truth / "orders_truth.csv")
    truth_ids = [int(r["order_id"]) for r in orders]
    assert len(truth_ids) == len(set(truth_ids))
    assert set(truth_ids) == ids_in_exports
    by_id = {int(r["order_id"]): r for r in orders}
    assert {r["trade_mode"] for r in orders} == {"broker", "paper"}
    assert {r["entry_type"] for r in orders} == {"initial", "reentry", "manual", "exit"}
    positions = read_truth(truth / "positions_truth.csv")
    per_book: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    for p in positions:
        opening = by_id[int(p["opening_order_id"])]
        assert opening["entry_type"] in ("initial", "manual")
        assert opening["is_executed"] == "true"
        assert opening["cycle_number"] == p["cycle_number"]
        assert (opening["user_id"], opening["base_symbol"], opening["trade_mode"]) == (
            p["user_id"], p["base_symbol"], p["trade_mode"])
        per_book[(p["user_id"], p["base_symbol"], p["trade_mode"])].append(
            int(p["cycle_number"]))
        assert p["status"] in ("open", "closed")
    for numbers in per_book.values():
        assert sorted(numbers) == list(range(1, len(numbers) + 1))
    reentries: dict[tuple[str, str, str, str], int] = defaultdict(int)
    for r in orders:
        if r["entry_type"] == "reentry" and r["is_executed"] == "true":
            reentries[(r["user_id"], r["base_symbol"], r["trade_mode"], r["cycle_number"])] += 1
        if r["is_executed"] == "true" and r["entry_type"] != "exit":
            assert r["cycle_number"]
    for p in positions:
        key = (p["user_id"], p["base_symbol"], p["trade_mode"], p["cycle_number"])
        assert reentries.get(key, 0) == int(p["reentry_count"])


def test_rules_recover_the_truth(sample: dict[str, Path]) -> None:
    result = compare(sample["out"], sample["truth"])
    assert result["bad_orders"] == []
    assert result["bad_cycles"] == [] and result["extra_cycles"] == 0
    counters = result["counters"]
    assert counters["positions_closes"] == 0  # the app's positions table never decides
    assert counters["history_closes"] > 0
    assert counters["orphans"] >= 1 and counters["attached"] >= 1 and counters["oversold"] >= 1
    closed = sum(1 for t in result["derive"].trades if t.data.get("status") == "closed")
    assert counters["unattributed"] <= max(1, closed // 100)


def test_quirks_are_present(sample: dict[str, Path]) -> None:
    out = sample["out"]
    rows = list(all_order_rows(out))
    symbols = {str(r["symbol"]) for _, _, r in rows}
    assert "BAJAJ-AUTO-EQ" in symbols and any(s.endswith("-BE") for s in symbols)
    assert any(s != s.upper() for s in symbols)
    assert any(s.upper().endswith(".NS") for s in symbols)
    statuses = {str(r["status"]) for _, _, r in rows}
    lowered = {s.lower() for s in statuses}
    assert {"amo", "pending_execution", "ongoing", "failed", "retry_pending", "rejected",
            "cancelled", "pending", "closed"} <= lowered
    assert any(s != s.lower() for s in statuses)
    versions: dict[int, list[tuple[int, dict[str, Any]]]] = defaultdict(list)
    for fi, _, r in rows:
        versions[int(r["id"])].append((fi, r))
    twice = [v for v in versions.values() if len({fi for fi, _ in v}) > 1]
    assert twice
    assert any(str(v[0][1]["status"]).lower() in ("pending", "amo", "pending_execution")
               and str(v[-1][1]["status"]).lower() in ("closed", "ongoing") for v in twice)
    assert any(parse_ts(v[-1][1].get("updated_at")) and parse_ts(v[0][1].get("updated_at"))
               and parse_ts(v[-1][1]["updated_at"]) > parse_ts(v[0][1]["updated_at"])
               for v in twice)
    failed = [r for _, _, r in rows if str(r["status"]).lower() in ("failed", "retry_pending",
                                                                      "rejected")]
    assert failed and all(r["order_id"] is None and r["broker_order_id"] is None
                          and r["price"] not in (None, "") for r in failed)
    assert any(str(r.get("placed_at") or "").endswith("+05:30") for _, _, r in rows)
    modes = {str(r.get("trade_mode")) for _, _, r in rows}
    assert {"paper", "broker"} <= {m.lower() for m in modes} and "None" in modes
    assert any(r.get("client_tag") is not None for _, _, r in rows)
    metas = [json.loads(r["metadata"]) for _, _, r in rows if r.get("metadata")]
    assert any("rsi_level" in m for m in metas) and any("reentry_level" in m for m in metas)
    assert any(m.get("entry_type") == "reentry" and "reentry_level" not in m for m in metas)
    assert any("exit_reason" in m for m in metas)

    result = compare(out, sample["truth"])
    orders, typed = result["derive"].orders, result["derive"].typed
    truth = {int(r["order_id"]): r for r in read_truth(sample["truth"] / "orders_truth.csv")}
    assert any(o.filled_qty < o.quantity for o in orders.values()
               if o.side == "buy" and o.is_executed and o.status == "closed")
    manual_types = {(truth[i]["entry_type"], bool(truth[i]["cycle_number"]))
                    for i, o in orders.items() if o.is_manual}
    assert ("manual", True) in manual_types
    openings = {int(r["opening_order_id"])
                for r in read_truth(sample["truth"] / "positions_truth.csv")}
    assert any(orders[i].is_manual for i in openings)
    assert any(orders[i].is_manual and i not in openings for i in orders)
    for etype in ("initial", "reentry"):
        unexecuted = [truth[i] for i, o in orders.items()
                      if truth[i]["entry_type"] == etype and not o.is_executed]
        assert {orders[int(r["order_id"])].status for r in unexecuted} >= {
            "failed", "cancelled", "pending"}
    wrong = [i for i, o in orders.items()
             if o.recorded_entry_type not in (None, "")
             and o.recorded_entry_type != truth[i]["entry_type"]]
    assert wrong
    assert any("entry_type" in r and r["entry_type"] is None for _, _, r in rows)

    trades = [t.data for t in result["derive"].trades]
    items: dict[tuple[str, str, int, int], int] = defaultdict(int)
    for trade in trades:
        for item in trade.get("reentries", []):
            items[(trade["symbol"], item["time"], item["qty"], item["level"])] += 1
    assert max(items.values()) >= 2  # one reentry item copied into several trades
    assert any("order_id" not in t and "buy_order_id" not in t for t in trades)
    assert any(t.get("exit_reason") == "MANUAL_EXIT" for t in trades)
    assert any(t.get("partial_exits") for t in trades)
    assert any(str(t.get("entry_time", "")).endswith("+05:30") for t in trades)
    assert any(t.get("entry_time") and "+" not in t["entry_time"] for t in trades)

    levels = {}
    for _, _, r in rows:
        meta = json.loads(r["metadata"]) if r.get("metadata") else {}
        level = meta.get("rsi_level", meta.get("reentry_level"))
        if level is not None:
            levels[int(r["id"])] = level
    daily: dict[tuple[int, str, str, dt.date], list[int]] = defaultdict(list)
    for i, o in orders.items():
        if typed[i].entry_type == "reentry" and o.is_executed:
            day = reference.market_date(o.placed_at, PARAMS)
            daily[o.book + (day,)].append(i)
    assert any(len(v) >= 2 for v in daily.values())  # the daily cap of 1 never worked
    repeated = [v for v in daily.values()
                if len({levels.get(i) for i in v if i in levels}) < len([i for i in v
                                                                         if i in levels])]
    assert repeated  # the same level twice in one day


def test_history_trades_option_scales_history(tmp_path: Path) -> None:
    proc = run_generator(tmp_path / "raw", tmp_path / "truth", "--seed", "3",
                         "--orders", "3000", "--history-trades", "600", "--quiet")
    assert proc.returncode == 0
    total = sum(len(json.loads(p.read_text())["trades"])
                for _, p in history_files(tmp_path / "raw"))
    assert 0.7 * 600 < total < 1.5 * 600
    result = compare(tmp_path / "raw", tmp_path / "truth")
    assert result["bad_orders"] == [] and result["bad_cycles"] == []
