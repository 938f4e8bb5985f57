"""Fault injection (R6): one raw folder holding every kind of bad input, each
in a file of its own, loaded and built once. For each kind the test asserts
the loader's message or the quarantine row and its reason, the row counts,
and that `dbt build` (with the conservation test) still passes."""
from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import duckdb
import pytest

from conftest import PROJECT, dbt, python, record_summary

ORDER_HEADER = ["id", "user_id", "symbol", "side", "order_type", "quantity", "price", "status",
                "placed_at", "updated_at", "execution_qty", "execution_price", "execution_time",
                "order_id", "metadata", "trade_mode", "reason"]


def order(id_: object, **overrides: object) -> dict[str, object]:
    row: dict[str, object] = {
        "id": id_, "user_id": 1, "symbol": "TCS-EQ", "side": "buy", "order_type": "market",
        "quantity": 10, "price": "", "status": "closed", "placed_at": "2025-03-03 09:20:00",
        "updated_at": "2025-03-03 09:21:00", "execution_qty": 10, "execution_price": 3500,
        "execution_time": "2025-03-03 09:20:30", "order_id": f"OID-{id_}", "metadata": "{}",
        "trade_mode": "broker",
    }
    row.update(overrides)
    return row


def csv_text(rows: list[dict[str, object]], header: list[str] = ORDER_HEADER, newline: str = "\n") -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header, lineterminator=newline, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def history(trades: list[dict]) -> str:
    return json.dumps({"trades": trades, "failed_orders": [], "last_run": "2025-11-20T09:15:02"}, indent=2)


def trade(**overrides: object) -> dict:
    record: dict = {"symbol": "TCS", "entry_price": 3500, "entry_time": "2025-03-03T09:20:30", "qty": 10,
                    "status": "closed", "exit_price": 3600, "exit_time": "2025-03-10T14:00:00",
                    "order_id": "OID-1", "reentries": []}
    record.update(overrides)
    return record


# Row-level faults: (kind, file under orders/, rows, expected quarantine reason or None when staged)
ROW_FAULTS = [
    ("unknown status", "orders_f01_status.csv", [order(101, status="exploded")], "unknown status"),
    ("unknown side", "orders_f02_side.csv", [order(102, side="hold")], "unknown side"),
    ("negative quantity", "orders_f03_negative.csv", [order(103, quantity=-5)], "non-positive quantity"),
    ("non-numeric quantity", "orders_f04_nonnumeric.csv", [order(104, quantity="ten")], "non-numeric quantity"),
    ("missing id", "orders_f05_no_id.csv", [order("")], "missing id"),
    ("missing user_id", "orders_f06_no_user.csv", [order(106, user_id="")], "missing user_id"),
    ("missing symbol", "orders_f07_no_symbol.csv", [order(107, symbol="")], "missing symbol"),
    ("missing placed_at", "orders_f08_no_placed.csv", [order(108, placed_at="")], "missing placed_at"),
    ("unparseable placed_at", "orders_f09_bad_placed.csv", [order(109, placed_at="03/03/2025 9am")],
     "unparseable placed_at"),
    ("unparseable execution_time", "orders_f10_bad_exec_time.csv", [order(110, execution_time="soon")],
     "unparseable execution_time"),
    ("unparseable metadata JSON", "orders_f11_bad_json.csv", [order(111, metadata='{"rsi10": 28,')],
     "unparseable metadata JSON"),
    ("non-numeric execution price", "orders_f12_bad_price.csv", [order(112, execution_price="n/a")],
     "non-numeric execution_price"),
    ("non-numeric id", "orders_f13_bad_id.csv", [order("12a")], "non-numeric id"),
]

# File-level faults: (kind, relative path, content bytes, message fragment)
REFUSED_FILES = [
    ("truncated history JSON", "trade_history/user_9/trades_history.json",
     history([trade()])[:60].encode(), "is not valid JSON"),
    ("CSV with wrong columns", "orders/orders_f20_wrong_columns.csv",
     b"foo,bar,baz\n1,2,3\n", "missing required column(s) id, user_id, symbol, side, quantity, status, placed_at"),
    ("non-UTF-8 CSV", "orders/orders_f21_latin1.csv",
     csv_text([order(121, symbol="CAF\u00c9-EQ")]).encode("latin-1"), "is not UTF-8 encoded"),
    ("empty file", "orders/orders_f22_empty.csv", b"", "is empty"),
    ("Parquet that is not Parquet", "orders/orders_f23_fake.parquet", b"PAR1 this is not parquet",
     "cannot be read as Parquet"),
    ("empty history file", "trade_history/user_8/trades_history.json", b"   \n", "is empty"),
    ("history JSON that is not a history", "trade_history/user_7/trades_history.json",
     b'[{"symbol": "TCS"}]', 'expected an object with a "trades" list'),
]


@pytest.fixture(scope="session")
def faulty(tmp_path_factory) -> dict[str, object]:
    root = PROJECT / "target" / "faults"
    shutil.rmtree(root, ignore_errors=True)
    raw = root / "raw"
    (raw / "orders").mkdir(parents=True)
    (raw / "positions").mkdir()
    (raw / "trade_history").mkdir()

    good = [order(1), order(2, side="sell", quantity=10, execution_qty=10, execution_price=3600,
                                placed_at="2025-03-10 10:00:00", execution_time="2025-03-10 10:00:05",
                                updated_at="2025-03-10 10:00:06")]
    (raw / "orders" / "orders_a_good.csv").write_text(csv_text(good))
    for _kind, name, rows, _reason in ROW_FAULTS:
        (raw / "orders" / name).write_text(csv_text(rows))

    # Text-format quirks that must load cleanly.
    (raw / "orders" / "orders_f30_bom.csv").write_bytes(b"\xef\xbb\xbf" + csv_text([order(130)]).encode())
    (raw / "orders" / "orders_f31_crlf.csv").write_text(csv_text([order(131)], newline="\r\n"), newline="")
    (raw / "orders" / "orders_f32_quoted_newline.csv").write_text(
        csv_text([order(132, reason="line one\nline two, with a comma", metadata='{"note": "a, \\"quoted\\" b"}')]))
    (raw / "orders" / "orders_f33_extra_column.csv").write_text(
        csv_text([dict(order(133), client_tag="x")], header=ORDER_HEADER + ["client_tag"]))
    # Ragged lines: quarantined as unparseable lines, the good rows of the file load.
    ragged = csv_text([order(134)]) + "135,1,TCS-EQ,buy\n" + csv_text([order(136)]).split("\n", 1)[1]
    (raw / "orders" / "orders_f34_ragged.csv").write_text(ragged)
    # The same id twice with conflicting content: the newer version wins (R1.8), nothing quarantined.
    (raw / "orders" / "orders_f35_dup_1.csv").write_text(csv_text([order(140, status="pending", execution_qty=0,
                                                                        updated_at="2025-03-04 09:00:00")]))
    (raw / "orders" / "orders_f36_dup_2.csv").write_text(csv_text([
        order(140, status="closed", updated_at="2025-03-05 09:00:00"),
        order(141, status="pending", execution_qty=0), order(141, status="cancelled", execution_qty=0)]))
    # A file that changes between two loads: written now, replaced before the second load.
    (raw / "orders" / "orders_f37_changing.csv").write_text(csv_text([order(150), order(151)]))

    (raw / "trade_history" / "trades_history.json").write_text(history([
        trade(),
        trade(symbol=None, order_id="OID-X"),                       # history trade without symbol
        trade(exit_time="yesterday", order_id="OID-Y"),              # unparseable exit_time
        trade(order_id="OID-2", reentries=[
            {"qty": 2, "level": 30, "rsi": 25, "price": 3400},      # reentry item without time
            {"level": 20, "time": "2025-03-04T10:00:00"},            # without qty: still usable
            {"qty": "two", "time": "2025-03-04T11:00:00"},          # non-numeric qty
        ]),
    ]))
    positions_header = ["id", "user_id", "symbol", "quantity", "avg_price", "opened_at", "closed_at", "reentries"]
    (raw / "positions" / "positions_f40.csv").write_text(csv_text([
        {"id": 1, "user_id": 1, "symbol": "TCS-EQ", "quantity": 0, "avg_price": 3500,
         "opened_at": "2025-03-03 09:20:30", "closed_at": "2025-03-10 10:00:05", "reentries": "[]"},
        {"id": 2, "user_id": 1, "symbol": "TCS-EQ", "quantity": 0, "avg_price": 3500,
         "opened_at": "2025-03-03 09:20:30", "closed_at": "", "reentries": '{"reentries": ['},
        {"id": 3, "user_id": 1, "symbol": "TCS", "quantity": 0, "avg_price": 3500,
         "opened_at": "2025-03-03 09:20:30", "closed_at": "later", "reentries": ""},
    ], header=positions_header))
    for _kind, rel, content, _message in REFUSED_FILES:
        (raw / rel).parent.mkdir(parents=True, exist_ok=True)
        (raw / rel).write_bytes(content)

    warehouse = root / "warehouse.duckdb"
    first = python("load_raw.py", "--raw-dir", str(raw), "--warehouse", str(warehouse), "--quiet", check=False)
    (raw / "orders" / "orders_f37_changing.csv").write_text(csv_text([order(150, status="cancelled", execution_qty=0)]))
    second = python("load_raw.py", "--raw-dir", str(raw), "--warehouse", str(warehouse), "--quiet", check=False)
    build = dbt("build", warehouse=warehouse, target_path=root / "dbt_target", check=False)
    return {"raw": raw, "warehouse": warehouse, "first": first, "second": second, "build": build}


def query(faulty: dict, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(faulty["warehouse"]), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def test_marts_still_build(faulty: dict) -> None:
    build = faulty["build"]
    assert build.returncode == 0, build.stdout[-5000:]
    assert "assert_raw_rows_conserved" in build.stdout
    assert query(faulty, "select count(*) from marts.fct_positions") == [(1,)]
    kinds = len(ROW_FAULTS) + len(REFUSED_FILES) + 12
    record_summary(f"fault injection: {kinds} kinds of bad input, marts built, conservation test passed")


def test_loader_exit_code_and_summary(faulty: dict) -> None:
    assert faulty["first"].returncode == 1
    assert f"{len(REFUSED_FILES)} refused" in faulty["first"].stdout
    assert faulty["second"].returncode == 1  # the broken files are still there, and still refused


@pytest.mark.parametrize("kind,name,rows,reason", ROW_FAULTS, ids=[fault[0] for fault in ROW_FAULTS])
def test_bad_row_is_quarantined(faulty: dict, kind: str, name: str, rows: list, reason: str) -> None:
    source_file = f"orders/{name}"
    assert query(faulty, "select count(*) from raw.orders where _source_file = ?", [source_file]) == [(len(rows),)]
    quarantined = query(faulty, "select quarantine_reason, raw_content from quarantine.quarantined_rows"
                                " where source_file = ?", [source_file])
    assert [row[0] for row in quarantined] == [reason] * len(rows)
    assert all(row[1] for row in quarantined), "the raw content is kept"
    staged = query(faulty, "select count(*) from staging.stg_trading_app__orders"
                           " where source_file = ? and quarantine_reason is null", [source_file])
    assert staged == [(0,)]


@pytest.mark.parametrize("kind,rel,content,message", REFUSED_FILES, ids=[fault[0] for fault in REFUSED_FILES])
def test_broken_file_is_refused_by_name(faulty: dict, kind: str, rel: str, content: bytes, message: str) -> None:
    lines = [line for line in faulty["first"].stderr.splitlines() if line.startswith(f"load_raw: refused {rel}: ")]
    assert len(lines) == 1, faulty["first"].stderr
    assert message in lines[0]
    assert query(faulty, "select action, message from raw.load_log where source_file = ? order by loaded_at desc limit 1",
                 [rel])[0][0] == "refused"
    for table in ("orders", "history_trades", "positions"):
        assert query(faulty, f"select count(*) from raw.{table} where _source_file = ?", [rel]) == [(0,)]


@pytest.mark.parametrize("name,order_id", [("orders_f30_bom.csv", 130), ("orders_f31_crlf.csv", 131),
                                           ("orders_f32_quoted_newline.csv", 132),
                                           ("orders_f33_extra_column.csv", 133)])
def test_text_quirks_load_cleanly(faulty: dict, name: str, order_id: int) -> None:
    assert query(faulty, "select count(*) from quarantine.quarantined_rows where source_file = ?",
                 [f"orders/{name}"]) == [(0,)]
    assert query(faulty, "select count(*) from marts.fct_orders where order_id = ?", [order_id]) == [(1,)]


def test_quoted_newline_kept_and_extra_column_kept(faulty: dict) -> None:
    reason, metadata = query(faulty, "select reason, metadata from raw.orders where id = '132'")[0]
    assert reason == "line one\nline two, with a comma"
    assert json.loads(metadata) == {"note": 'a, "quoted" b'}
    assert query(faulty, "select _extra from raw.orders where id = '133'") == [('{"client_tag":"x"}',)]


def test_ragged_line_quarantined_rest_loaded(faulty: dict) -> None:
    source_file = "orders/orders_f34_ragged.csv"
    rows = query(faulty, "select quarantine_reason, raw_content, source_row from quarantine.quarantined_rows"
                         " where source_file = ?", [source_file])
    assert len(rows) == 1
    reason, content, line = rows[0]
    assert reason.startswith("unparseable CSV line: Expected Number of Columns")
    assert content.startswith("135,1,TCS-EQ,buy") and line == 3
    assert query(faulty, "select count(*) from marts.fct_orders where order_id in (134, 136)") == [(2,)]


def test_conflicting_duplicates_newest_wins(faulty: dict) -> None:
    assert query(faulty, "select status, filled_qty from marts.fct_orders where order_id = 140") == [("closed", 10)]
    # same file, no updated_at difference: the later row wins
    assert query(faulty, "select status from marts.fct_orders where order_id = 141") == [("cancelled",)]


def test_file_changed_between_loads_replaces_its_rows(faulty: dict) -> None:
    source_file = "orders/orders_f37_changing.csv"
    assert "1 replaced" in faulty["second"].stdout
    assert query(faulty, "select id, status from raw.orders where _source_file = ?", [source_file]) == [("150", "cancelled")]
    assert query(faulty, "select count(*) from marts.fct_orders where order_id = 151") == [(0,)]


@pytest.mark.parametrize("table,reason", [
    ("history_trades", "missing symbol"),
    ("history_trades", "unparseable exit_time"),
    ("history_reentry_items", "missing time"),
    ("history_reentry_items", "non-numeric qty"),
    ("positions", "unparseable reentries JSON"),
    ("positions", "unparseable closed_at"),
])
def test_bad_history_and_positions_rows_quarantined(faulty: dict, table: str, reason: str) -> None:
    rows = query(faulty, "select raw_content from quarantine.quarantined_rows where source_table = ? and quarantine_reason = ?",
                 [table, reason])
    assert len(rows) == 1 and rows[0][0]


def test_item_with_missing_qty_is_still_used(faulty: dict) -> None:
    assert query(faulty, "select count(*) from staging.stg_trading_app__history_reentry_items"
                         " where quarantine_reason is null and qty is null") == [(1,)]
