"""The loader: every row lands with its file and row number, reloading adds
nothing, a changed file replaces its rows, a broken file is refused by name
while the others load, and a history file far above DuckDB's per-object limit
loads."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import duckdb
import pytest

from conftest import PROJECT, python

ORDERS_CSV = """id,user_id,symbol,side,order_type,quantity,price,status,placed_at,metadata,client_tag
1,1,RELIANCE-EQ,buy,market,10,,ongoing,2025-01-02 09:20:00,"{""rsi10"": 28, ""note"": ""a,b""}",x
2,1,RELIANCE-EQ,buy,market,5,,ongoing,2025-01-03 10:00:00,,y
"""


def write_history(path: Path, trades: list[dict], indent: int | None = 2) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        json.dump({"trades": trades, "failed_orders": [], "last_run": "2025-11-20T09:15:02.123456"},
                  handle, indent=indent)


def trade(index: int, reentries: int = 2) -> dict:
    return {
        "symbol": "RELIANCE", "entry_price": 2500 + index, "entry_time": "2025-01-02T09:20:00",
        "qty": 10 + reentries, "status": "closed", "exit_price": 2600, "exit_time": "2025-01-08T14:00:00",
        "reentries": [{"qty": 1, "level": 30, "rsi": 25.5, "price": 2400, "time": "2025-01-03T10:00:00"}
                      for _ in range(reentries)],
        "note": "x" * 50,
    }


@pytest.fixture()
def raw(tmp_path: Path) -> Path:
    folder = tmp_path / "raw"
    (folder / "orders").mkdir(parents=True)
    (folder / "orders" / "orders_2025-01.csv").write_text(ORDERS_CSV)
    write_history(folder / "trade_history" / "trades_history.json", [trade(1), trade(2, 0)])
    write_history(folder / "trade_history" / "user_7" / "trades_history.json", [trade(3, 1)])
    return folder


def query(warehouse: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def with_orders(raw: Path) -> Path:
    """An input needs orders (no orders at all is an error): the history tests add one file."""
    (raw / "orders").mkdir(parents=True, exist_ok=True)
    (raw / "orders" / "orders_2025-01.csv").write_text(ORDERS_CSV)
    return raw


def load(raw: Path, warehouse: Path, check: bool = True):
    return python("load_raw.py", "--raw-dir", str(raw), "--warehouse", str(warehouse), "--quiet", check=check)


def test_rows_land_with_file_row_and_extras(raw: Path, tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    load(raw, warehouse)
    rows = query(warehouse, "select id, _source_file, _source_row, metadata, _extra from raw.orders order by id")
    assert rows == [
        ("1", "orders/orders_2025-01.csv", 1, '{"rsi10": 28, "note": "a,b"}', '{"client_tag":"x"}'),
        ("2", "orders/orders_2025-01.csv", 2, None, '{"client_tag":"y"}'),
    ]
    trades = query(warehouse, "select _source_file, _source_row, _file_user_id from raw.history_trades order by 1, 2")
    assert trades == [
        ("trade_history/trades_history.json", 1, None),
        ("trade_history/trades_history.json", 2, None),
        ("trade_history/user_7/trades_history.json", 1, "7"),
    ]
    items = query(warehouse, "select _source_file, _source_row, _item_index from raw.history_reentry_items order by 1, 2, 3")
    assert items == [
        ("trade_history/trades_history.json", 1, 1),
        ("trade_history/trades_history.json", 1, 2),
        ("trade_history/user_7/trades_history.json", 1, 1),
    ]


def test_loading_twice_adds_nothing(raw: Path, tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    load(raw, warehouse)
    counts = query(warehouse, "select (select count(*) from raw.orders), (select count(*) from raw.history_trades),"
                              " (select count(*) from raw.history_reentry_items)")
    second = load(raw, warehouse)
    assert "3 skipped" in second.stdout
    assert query(warehouse, "select (select count(*) from raw.orders), (select count(*) from raw.history_trades),"
                            " (select count(*) from raw.history_reentry_items)") == counts


def test_changed_file_replaces_its_rows(raw: Path, tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    load(raw, warehouse)
    (raw / "orders" / "orders_2025-01.csv").write_text(ORDERS_CSV.splitlines()[0] + "\n" + ORDERS_CSV.splitlines()[1] + "\n")
    result = load(raw, warehouse)
    assert "1 replaced" in result.stdout
    assert query(warehouse, "select id from raw.orders") == [("1",)]


def test_broken_file_refused_by_name_others_load(raw: Path, tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    broken = raw / "trade_history" / "user_8" / "trades_history.json"
    broken.parent.mkdir()
    text = json.dumps({"trades": [trade(9)]}, indent=2)
    broken.write_text(text[: len(text) // 2])  # truncated
    (raw / "orders" / "orders_2025-02.csv").write_text("foo,bar\n1,2\n")  # wrong columns
    result = load(raw, warehouse, check=False)
    assert result.returncode == 1
    assert "refused trade_history/user_8/trades_history.json: is not valid JSON" in result.stderr
    assert "refused orders/orders_2025-02.csv: missing required column(s) id, user_id" in result.stderr
    assert query(warehouse, "select count(*) from raw.orders") == [(2,)]
    assert query(warehouse, "select count(*) from raw.history_trades") == [(3,)]
    assert query(warehouse, "select source_file from raw.load_log where action = 'refused' order by 1") == [
        ("orders/orders_2025-02.csv",), ("trade_history/user_8/trades_history.json",)]


def test_history_file_beyond_duckdb_object_limit(tmp_path: Path) -> None:
    """~40 MB in one JSON object: DuckDB's default maximum_object_size is 16 MB."""
    raw = tmp_path / "raw"
    trades = [trade(i, 3) for i in range(60_000)]
    write_history(raw / "trade_history" / "trades_history.json", trades)
    assert (raw / "trade_history" / "trades_history.json").stat().st_size > 32 * 1024 * 1024
    warehouse = tmp_path / "w.duckdb"
    load(with_orders(raw), warehouse)
    assert query(warehouse, "select count(*), max(_source_row) from raw.history_trades") == [(60_000, 60_000)]
    assert query(warehouse, "select count(*) from raw.history_reentry_items") == [(180_000,)]
    first = query(warehouse, "select trade from raw.history_trades where _source_row = 1")[0][0]
    assert json.loads(first)["entry_price"] == 2500


@pytest.mark.parametrize("trades", [[], [0], [0, 1, 2]])
def test_history_split_streams_across_any_chunk_boundary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         trades: list[int]) -> None:
    """The trades array is copied out of the file chunk by chunk: wherever a
    chunk ends (inside the opening key, on the bracket, inside the closing
    line), the array written and the document left around it are the file's."""
    sys.path.insert(0, str(PROJECT / "scripts"))
    import load_raw

    path = tmp_path / "trades_history.json"
    write_history(path, [trade(i, 1) for i in trades])
    document = json.loads(path.read_text())
    for chunk in (1, 2, 3, 5, 8, 13, 64, 1 << 24):
        monkeypatch.setattr(load_raw, "HISTORY_CHUNK", chunk)
        work = tmp_path / f"chunk_{chunk}"
        work.mkdir()
        array = load_raw.split_history(path, work)
        assert json.loads(array.read_text()) == document["trades"], chunk
        assert json.loads((work / "outside.json").read_text()) == dict(document, trades=[]), chunk


@pytest.mark.parametrize("indent", [None, 4])
def test_history_file_in_other_layouts(tmp_path: Path, indent: int | None) -> None:
    raw = tmp_path / "raw"
    write_history(raw / "trade_history" / "trades_history.json", [trade(i) for i in range(3)], indent=indent)
    warehouse = tmp_path / "w.duckdb"
    load(with_orders(raw), warehouse)
    assert query(warehouse, "select count(*) from raw.history_trades") == [(3,)]
    assert query(warehouse, "select count(*) from raw.history_reentry_items") == [(6,)]


def test_empty_trades_list(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    write_history(raw / "trade_history" / "trades_history.json", [])
    warehouse = tmp_path / "w.duckdb"
    load(with_orders(raw), warehouse)
    assert query(warehouse, "select count(*) from raw.history_trades") == [(0,)]


def test_parquet_export_loads(tmp_path: Path, raw: Path) -> None:
    parquet = raw / "orders" / "orders_2025-02.parquet"
    con = duckdb.connect()
    con.execute(
        "copy (select 3 as id, 1 as user_id, 'TCS.NS' as symbol, 'buy' as side, 4.0 as quantity, 'closed' as status,"
        " timestamp '2025-02-03 09:30:00' as placed_at, 5 as execution_qty) to ? (format parquet)", [str(parquet)])
    con.close()
    warehouse = tmp_path / "w.duckdb"
    load(raw, warehouse)
    assert query(warehouse, "select symbol, quantity, placed_at, execution_qty from raw.orders where id = '3'") == [
        ("TCS.NS", "4.0", "2025-02-03 09:30:00", "5")]


def test_missing_folder_is_a_usage_error(tmp_path: Path) -> None:
    result = load(tmp_path / "nope", tmp_path / "w.duckdb", check=False)
    assert result.returncode == 2
    assert "does not exist" in result.stderr


def test_no_orders_is_an_error(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    write_history(raw / "trade_history" / "trades_history.json", [trade(1)])
    result = load(raw, tmp_path / "w.duckdb", check=False)
    assert result.returncode == 2
    assert "has no orders/ folder: nothing to build" in result.stderr
    (raw / "orders").mkdir()
    (raw / "orders" / "orders.csv").write_text("id,user_id,symbol,side,quantity,status,placed_at\n")
    result = load(raw, tmp_path / "w.duckdb", check=False)
    assert result.returncode == 2
    assert "no orders loaded from" in result.stderr


def test_unread_files_are_listed_and_gzip_is_read(raw: Path, tmp_path: Path) -> None:
    import gzip

    (raw / "orders" / "orders_2025-02.csv.gz").write_bytes(gzip.compress(ORDERS_CSV.replace("\n1,", "\n11,")
                                                                          .replace("\n2,", "\n12,").encode()))
    (raw / "orders" / "orders_2025-03.csv.zip").write_bytes(b"PK")
    (raw / "orders" / "orders_2025-04.xlsx").write_bytes(b"PK")
    (raw / "orders" / ".DS_Store").write_bytes(b"\0")
    history = raw / "trade_history" / "user_5" / "trades_history.json.gz"
    history.parent.mkdir()
    history.write_bytes(gzip.compress(json.dumps({"trades": [trade(5, 1)]}, indent=2).encode()))
    warehouse = tmp_path / "w.duckdb"
    result = load(raw, warehouse, check=False)
    assert result.returncode == 1
    assert ("load_raw: not read orders/orders_2025-03.csv.zip: compressed files are read as .csv.gz only"
            in result.stderr)
    assert "load_raw: not read orders/orders_2025-04.xlsx: not a supported type" in result.stderr
    assert "load_raw: not read orders/.DS_Store: a hidden file" in result.stderr
    assert "Traceback" not in result.stderr
    assert query(warehouse, "select count(*) from raw.orders where _source_file = 'orders/orders_2025-02.csv.gz'") \
        == [(2,)]
    assert query(warehouse, "select _file_user_id, count(*) from raw.history_trades"
                            " where _source_file like '%.json.gz' group by all") == [("5", 1)]


def test_any_failure_in_a_file_refuses_that_file_only(raw: Path, tmp_path: Path) -> None:
    """Old-Mac CR line endings load; JSON nested too deep for Python is refused by name, no traceback."""
    (raw / "orders" / "orders_2025-02.csv").write_text(
        ORDERS_CSV.replace("\n1,", "\n21,").replace("\n2,", "\n22,").replace("\n", "\r"), newline="")
    deep = raw / "trade_history" / "user_6" / "trades_history.json"
    deep.parent.mkdir()
    deep.write_text('{"trades": [' + "[" * 200_000 + "]" * 200_000 + "]}")
    warehouse = tmp_path / "w.duckdb"
    result = load(raw, warehouse, check=False)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "load_raw: refused trade_history/user_6/trades_history.json: " in result.stderr
    assert query(warehouse, "select id, placed_at from raw.orders where _source_file = 'orders/orders_2025-02.csv'"
                            " order by id") == [("21", "2025-01-02 09:20:00"), ("22", "2025-01-03 10:00:00")]
    assert query(warehouse, "select count(*) from raw.history_trades") == [(3,)]
    debug = python("load_raw.py", "--raw-dir", str(raw), "--warehouse", str(tmp_path / "w2.duckdb"), "--quiet",
                   "--debug", check=False)
    assert "Traceback" in debug.stderr


def test_hidden_files_are_listed_but_do_not_fail_the_load(raw: Path, tmp_path: Path) -> None:
    (raw / ".DS_Store").write_bytes(b"\0")
    (raw / "orders" / ".~lock.orders_2025-01.csv#").write_text("x")
    result = load(raw, tmp_path / "w.duckdb", check=False)
    assert result.returncode == 0
    assert "load_raw: not read .DS_Store: a hidden file" in result.stderr
