"""Fault injection (R6): one raw folder holding every kind of bad input, each
in a file of its own, loaded and built once. For each kind the test asserts
the loader's message or the quarantine row and its reason, the row counts of
every file, and that `dbt build` (with the conservation test) still passes;
over the whole build, that no mart holds a NaN or an infinity, a fill before
its placement or an instant read in the wrong zone."""
from __future__ import annotations

import csv
import gzip
import io
import json
import shutil
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pytest

from conftest import PROJECT, dbt, python, record_summary

ORDER_HEADER = ["id", "user_id", "symbol", "side", "order_type", "quantity", "price", "status",
                "placed_at", "updated_at", "execution_qty", "execution_price", "execution_time",
                "order_id", "metadata", "trade_mode", "reason", "entry_type"]


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
     "unparseable placed_at (99/99/9999 9aa)"),
    ("unparseable execution_time", "orders_f10_bad_exec_time.csv", [order(110, execution_time="soon")],
     "unparseable execution_time (aaaa)"),
    ("unparseable metadata JSON", "orders_f11_bad_json.csv", [order(111, metadata='{"rsi10": 28,')],
     "unparseable metadata JSON"),
    ("non-numeric execution price", "orders_f12_bad_price.csv", [order(112, execution_price="n/a")],
     "non-numeric execution_price"),
    ("non-numeric id", "orders_f13_bad_id.csv", [order("12a")], "non-numeric id"),
    # issue 13: one unexpected value must not stop the night, nor be wrong in silence
    ("unknown trade_mode", "orders_f50_trade_mode.csv", [order(250, trade_mode="live")], "unknown trade_mode"),
    ("NaN execution price", "orders_f51_nan.csv", [order(251, execution_price="NaN")],
     "non-numeric execution_price"),
    ("infinite execution price", "orders_f52_inf.csv", [order(252, execution_price="inf")],
     "non-numeric execution_price"),
    ("overflowing price", "orders_f53_overflow.csv", [order(253, price="1e400")], "non-numeric price"),
    ("fractional id", "orders_f54_fractional_id.csv", [order("3174.4")], "non-integer id"),
    ("fractional user_id", "orders_f55_fractional_user.csv", [order(255, user_id="2.5")], "non-integer user_id"),
    ("unknown order_type", "orders_f56_order_type.csv", [order(256, order_type="SL-M")], "unknown order_type"),
    ("unknown entry_type", "orders_f57_entry_type.csv", [order(257, entry_type="averaging")],
     "unknown entry_type"),
    ("metadata level not 30/20/10", "orders_f58_level.csv", [order(258, metadata='{"rsi_level": 25}')],
     "unknown metadata reentry level"),
    ("metadata RSI above 100", "orders_f59_rsi.csv", [order(259, metadata='{"rsi": 140}')],
     "metadata rsi out of range"),
    ("fill before placement", "orders_f60_fill_before.csv", [order(260, execution_time="2025-03-03 09:10:00")],
     "execution_time before placed_at"),
    ("update before placement", "orders_f61_update_before.csv", [order(261, updated_at="2025-03-02 09:10:00")],
     "updated_at before placed_at"),
    ("symbol of invisible characters", "orders_f62_invisible_symbol.csv", [order(262, symbol="\u200b\u00a0")],
     "missing symbol"),
    ("timestamp in no ISO form", "orders_f63_us_date.csv", [order(263, placed_at="3/3/2025 09:20")],
     "unparseable placed_at (9/9/9999 99:99)"),
]

# Spellings that must be read, each as the instant it means (UTC): (order id, placed_at, execution_time, updated_at)
INSTANT = datetime(2025, 3, 3, 3, 50, tzinfo=timezone.utc)  # 09:20 India time
SPELLINGS = [
    (170, "2025-03-03T09:20:00", "2025-03-03T09:20:30.5", "2025-03-03T09:21:00.123456789"),
    (171, "2025-03-03T03:50:00Z", "2025-03-03T03:50:30.000Z", "2025-03-03 03:51:00 UTC"),
    (172, "2025-03-03T09:20:00+05:30", "2025-03-03T09:20:30+0530", "2025-03-03 09:21:00 +05:30"),
    (173, "2025-03-03 03:50:00+00", "2025-03-02T22:50:30-05:00", "2025-03-03t09:21:00"),
    (174, "2025-03-03 09:20", "2025-03-03 09:20:30,25", "2025-03-03 04:51:00+01"),
]

# Symbols with blanks or invisible characters: the same book as TCS-EQ, no phantom one.
SYMBOL_QUIRKS = [(180, "TCS -EQ"), (181, "TCS\t-EQ"), (182, "T\u200bCS-EQ"), (183, "\u00a0tcs-eq\ufeff")]

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
    ("history JSON nested too deeply", "trade_history/user_6/trades_history.json",
     ('{"trades": [' + "[" * 100_000 + "]" * 100_000 + "]}").encode(), "is not valid JSON (nested too deeply"),
    ("gzip file that is not gzip", "orders/orders_f25_fake.csv.gz", b"id,user_id\n1,2\n",
     "is not a readable gzip file"),
]

# Files the loader does not read: listed with the reason, nothing else happens to them.
NOT_READ = [
    ("orders/orders_f26_export.csv.zip", b"PK\x03\x04", "compressed files are read as .csv.gz only"),
    ("orders/orders_f27_export.xlsx", b"PK\x03\x04", "not a supported type"),
    ("trade_history/user_5/trades_history.json.bak", b"{}", "not a supported type"),
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
    # Old-Mac line endings (CR only) and gzip-compressed exports load like any other.
    (raw / "orders" / "orders_f38_cr_only.csv").write_text(csv_text([order(138)], newline="\r"), newline="")
    (raw / "orders" / "orders_f39_gzip.csv.gz").write_bytes(gzip.compress(csv_text([order(139)]).encode()))
    # Timestamp spellings and symbol quirks: staged, read as what they mean.
    (raw / "orders" / "orders_f41_spellings.csv").write_text(csv_text([
        order(id_, placed_at=placed, execution_time=executed, updated_at=updated)
        for id_, placed, executed, updated in SPELLINGS]))
    (raw / "orders" / "orders_f42_symbols.csv").write_text(csv_text([order(id_, symbol=symbol)
                                                                     for id_, symbol in SYMBOL_QUIRKS]))
    # Parquet columns in the types a writer may choose: a float id, an int32 user, a float quantity, a
    # decimal price, timestamps in ns / ms / with time zone, a date.
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    con.execute(
        "copy (select 190.0::double as id, 1::integer as user_id, 'TCS-EQ' as symbol, 'buy' as side,"
        " 10.0::float as quantity, 'closed' as status, cast('2025-03-03 09:20:00.123456789' as timestamp_ns) as placed_at,"
        " cast('2025-03-03 09:21:00' as timestamp_ms) as updated_at, 10::bigint as execution_qty,"
        " 3500.50::decimal(10, 2) as execution_price, timestamptz '2025-03-03 03:50:30+00' as execution_time"
        " union all select 191.0, 1, 'TCS-EQ', 'buy', 10.0, 'closed', cast('2025-03-03' as date),"
        " null, 10, 3500.5, timestamptz '2025-03-03 03:50:30+00')"
        f" to '{raw / 'orders' / 'orders_f43_typed.parquet'}' (format parquet)")
    con.close()
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
            {"qty": 1, "level": 25, "time": "2025-03-04T12:00:00"},  # a level that is not 30/20/10
        ]),
        trade(order_id="OID-R1", reentries={"items": [{"qty": 1, "time": "2025-03-04T10:00:00"}]}),  # object
        trade(order_id="OID-R2", reentries="[{'qty': 1}]"),         # a string
        trade(order_id="OID-R3", reentries=None),                   # JSON null: no reentries
        trade(order_id="OID-R4", exit_price="NaN"),                  # NaN as text
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
    for rel, content, _reason in NOT_READ:
        (raw / rel).parent.mkdir(parents=True, exist_ok=True)
        (raw / rel).write_bytes(content)

    warehouse = root / "warehouse.duckdb"
    first = python("load_raw.py", "--raw-dir", str(raw), "--warehouse", str(warehouse), "--quiet", check=False)
    (raw / "orders" / "orders_f37_changing.csv").write_text(csv_text([order(150, status="cancelled", execution_qty=0)]))
    second = python("load_raw.py", "--raw-dir", str(raw), "--warehouse", str(warehouse), "--quiet", check=False)
    build = dbt("build", warehouse=warehouse, target_path=root / "dbt_target", check=False)
    check = python("check_quarantine.py", "--warehouse", str(warehouse), check=False)
    return {"raw": raw, "warehouse": warehouse, "first": first, "second": second, "build": build, "check": check}


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
    kinds = len(ROW_FAULTS) + len(REFUSED_FILES) + len(NOT_READ) + 22
    record_summary(f"fault injection: {kinds} kinds of bad input, marts built, conservation test passed")


def test_loader_exit_code_and_summary(faulty: dict) -> None:
    assert faulty["first"].returncode == 1
    assert f"{len(REFUSED_FILES)} refused, {len(NOT_READ)} not read" in faulty["first"].stdout
    assert "Traceback" not in faulty["first"].stderr
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
                                           ("orders_f33_extra_column.csv", 133),
                                           ("orders_f38_cr_only.csv", 138), ("orders_f39_gzip.csv.gz", 139)])
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
    ("history_trades", "unparseable exit_time (aaaaaaaaa)"),
    ("history_reentry_items", "missing time"),
    ("history_reentry_items", "non-numeric qty"),
    ("positions", "unparseable reentries JSON"),
    ("positions", "unparseable closed_at (aaaaa)"),
])
def test_bad_history_and_positions_rows_quarantined(faulty: dict, table: str, reason: str) -> None:
    rows = query(faulty, "select raw_content from quarantine.quarantined_rows where source_table = ? and quarantine_reason = ?",
                 [table, reason])
    assert len(rows) == 1 and rows[0][0]


def test_item_with_missing_qty_is_still_used(faulty: dict) -> None:
    assert query(faulty, "select count(*) from staging.stg_trading_app__history_reentry_items"
                         " where quarantine_reason is null and qty is null") == [(1,)]


@pytest.mark.parametrize("rel,content,reason", NOT_READ, ids=[item[0] for item in NOT_READ])
def test_file_not_read_is_listed_with_its_reason(faulty: dict, rel: str, content: bytes, reason: str) -> None:
    lines = [line for line in faulty["first"].stderr.splitlines() if line.startswith(f"load_raw: not read {rel}: ")]
    assert len(lines) == 1 and reason in lines[0], faulty["first"].stderr
    assert query(faulty, "select count(*) from raw.load_log where source_file = ?", [rel]) == [(0,)]


def test_every_other_file_loads_with_all_its_rows(faulty: dict) -> None:
    """Refused and unread files cost nothing else: every other file is loaded, its rows all there."""
    problems = {rel for _kind, rel, _content, _message in REFUSED_FILES} | {rel for rel, _c, _r in NOT_READ}
    written = sorted(str(path.relative_to(faulty["raw"])) for path in faulty["raw"].rglob("*") if path.is_file())
    loaded = dict(query(faulty, "select source_file, arg_max(rows_loaded, loaded_at) from raw.load_log"
                                " where action in ('loaded', 'replaced') group by source_file"))
    assert sorted(loaded) == [rel for rel in written if rel not in problems]
    for rel, rows in loaded.items():
        if rel.startswith("orders/"):
            raw_rows = query(faulty, "select count(*) from raw.orders where _source_file = ?", [rel])[0][0]
            rejected = query(faulty, "select count(*) from raw.rejected_lines where _source_file = ?", [rel])[0][0]
            assert raw_rows + rejected == rows, rel
    assert loaded["orders/orders_a_good.csv"] == 2
    assert loaded["orders/orders_f41_spellings.csv"] == len(SPELLINGS)
    assert loaded["trade_history/trades_history.json"] == 8


def test_no_mart_holds_nan_or_infinity(faulty: dict) -> None:
    columns = query(faulty, "select table_name, column_name from information_schema.columns"
                            " where table_schema = 'marts' and data_type in ('DOUBLE', 'FLOAT', 'REAL')")
    assert columns
    for table, column in columns:
        bad = query(faulty, f'select count(*) from marts."{table}" where not isfinite("{column}")')
        assert bad == [(0,)], f"marts.{table}.{column} holds NaN or infinity"


def test_no_fill_before_its_placement(faulty: dict) -> None:
    assert query(faulty, "select count(*) from marts.fct_orders where filled_at < placed_at") == [(0,)]
    assert query(faulty, "select count(*) from marts.fct_orders where updated_at < placed_at") == [(0,)]


@pytest.mark.parametrize("order_id,placed,executed,updated", SPELLINGS, ids=[str(s[0]) for s in SPELLINGS])
def test_timestamp_spellings_read_as_the_instant_they_mean(faulty: dict, order_id: int, placed: str, executed: str,
                                                           updated: str) -> None:
    rows = query(faulty, "select placed_at, filled_at, updated_at from marts.fct_orders where order_id = ?", [order_id])
    assert len(rows) == 1, f"order {order_id} was quarantined"
    placed_at, filled_at, updated_at = (value.astimezone(timezone.utc) for value in rows[0])
    assert placed_at == INSTANT
    assert filled_at.replace(microsecond=0) == INSTANT.replace(second=30)
    assert updated_at.replace(microsecond=0) == INSTANT.replace(minute=51)


def test_parquet_column_types_read(faulty: dict) -> None:
    rows = query(faulty, "select order_id, quantity, fill_price, placed_at, filled_at from marts.fct_orders"
                         " where order_id in (190, 191) order by order_id")
    assert [(r[0], float(r[1]), r[2]) for r in rows] == [(190, 10.0, 3500.5), (191, 10.0, 3500.5)]
    assert rows[0][3].astimezone(timezone.utc) == INSTANT.replace(microsecond=123456)
    assert rows[1][3].astimezone(timezone.utc) == datetime(2025, 3, 2, 18, 30, tzinfo=timezone.utc)  # India midnight
    assert rows[0][4].astimezone(timezone.utc) == INSTANT.replace(second=30)


def test_symbols_with_blanks_make_no_phantom_book(faulty: dict) -> None:
    ids = [order_id for order_id, _symbol in SYMBOL_QUIRKS]
    rows = query(faulty, f"select distinct base_symbol from marts.fct_orders where order_id in ({', '.join(map(str, ids))})")
    assert rows == [("TCS",)]
    assert query(faulty, "select distinct base_symbol from marts.fct_positions") == [("TCS",)]


@pytest.mark.parametrize("order_ref,reason", [("OID-R1", "reentries is not a list"),
                                              ("OID-R2", "reentries is not a list"),
                                              ("OID-R4", "non-numeric exit_price")])
def test_history_trade_with_unusable_values_is_quarantined(faulty: dict, order_ref: str, reason: str) -> None:
    assert query(faulty, "select quarantine_reason from staging.stg_trading_app__history_trades"
                         " where order_ref = ?", [order_ref]) == [(reason,)]


def test_history_reentries_null_is_no_reentries(faulty: dict) -> None:
    assert query(faulty, "select quarantine_reason from staging.stg_trading_app__history_trades"
                         " where order_ref = 'OID-R3'") == [(None,)]


def test_history_item_with_unknown_level_is_quarantined(faulty: dict) -> None:
    assert query(faulty, "select count(*) from quarantine.quarantined_rows"
                         " where source_table = 'history_reentry_items' and quarantine_reason = 'unknown level'") == [(1,)]


def test_mostly_quarantined_files_are_named(faulty: dict) -> None:
    check = faulty["check"]
    assert check.returncode == 1
    for _kind, name, rows, _reason in ROW_FAULTS:
        assert f"check_quarantine: orders/{name}: {len(rows)} of {len(rows)} rows quarantined" in check.stderr
    assert "orders/orders_a_good.csv" not in check.stderr

