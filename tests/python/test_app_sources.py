"""Reading the app's own database (issue 14 groundwork): scripts/app_sources.py
against installations written by scripts/app_installation.py from the simulator.

The same installation read from SQLite, live PostgreSQL and plain, gzipped and
custom-format dumps gives the same rows once PostgreSQL's naive-UTC timestamps are
normalised; nothing is written to a source; credentials are never read; a missing
table or required column is refused by name while the other tables read; an
unreachable server or a wrong password is one line with the password redacted.
The PostgreSQL tests start a throwaway cluster with scripts/pg_cluster.sh (marker
``postgres``, like test_postgres.py)."""
from __future__ import annotations

import csv
import hashlib
import shutil
import socket
import sqlite3
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from conftest import PROJECT, python, run

sys.path.insert(0, str(PROJECT / "scripts"))
import app_installation as inst_mod  # noqa: E402
import app_sources as src  # noqa: E402

ORDERS = 800
SEED = 20261201
PASSWORD = "tr4der-S3cret!x"  # the app role's password in these tests
IST = timedelta(hours=5, minutes=30)
SECRET = inst_mod.FAKE_SECRET_MARKER


# ---------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def installation(tmp_path_factory) -> dict:
    """The simulator's raw folder, its installation (typed rows) and the SQLite app.db."""
    root = tmp_path_factory.mktemp("app_installation")
    raw, truth = root / "raw", root / "truth"
    python("generate_sample_data.py", "--out", str(raw), "--truth", str(truth), "--seed", str(SEED),
           "--orders", str(ORDERS), "--quiet")
    app_db = root / "data" / "app.db"
    installed = inst_mod.write_sqlite(raw, app_db)
    placed = sorted(o["placed_at"] for o in installed.orders)
    opened = sorted(p["opened_at"] for p in installed.positions if p["opened_at"])
    # release dates inside the data, so that both PostgreSQL conventions occur
    release = placed[len(placed) // 2].date()
    positions_release = opened[len(opened) // 2].date()
    return {"root": root, "raw": raw, "truth": truth, "app_db": app_db, "inst": installed,
            "release": release, "positions_release": positions_release}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def pg(installation: dict) -> dict:
    """A throwaway cluster (scripts/pg_cluster.sh), a role ``trader`` with a password and the
    installation loaded into database ``tradeagent``, plus its three dumps."""
    psycopg = pytest.importorskip("psycopg")
    cluster_dir = Path(tempfile.mkdtemp(prefix="wt14_app_sources_pg_", dir="/tmp"))
    script = str(PROJECT / "scripts" / "pg_cluster.sh")
    port = free_port()
    run(["bash", script, "start", str(cluster_dir), str(port)], timeout=900)
    try:
        admin = {"host": str(cluster_dir / "socket"), "port": port, "user": "postgres", "dbname": "postgres"}
        with psycopg.connect(**admin, autocommit=True) as con:
            con.execute(f"create role trader login password '{PASSWORD}'")
            for db in ("tradeagent", "tradeagent_era2", "tradeagent_broken", "tradeagent_shuffled",
                       "tradeagent_snapshot"):
                con.execute(f"create database {db} owner trader")
        env = {"host": "127.0.0.1", "port": port, "cluster_dir": cluster_dir, "admin": admin}
        env["conninfo"] = lambda db="tradeagent": (f"host=127.0.0.1 port={port} dbname={db} user=trader"
                                                   f" password={PASSWORD}")
        env["url"] = lambda db="tradeagent", password=True: (
            f"postgresql+psycopg2://trader:{PASSWORD}@127.0.0.1:{port}/{db}" if password
            else f"postgresql://trader@127.0.0.1:{port}/{db}")
        inst_mod.write_postgres(installation["inst"], env["conninfo"](), release=installation["release"],
                                positions_release=installation["positions_release"])
        dumps = installation["root"] / "backups"
        env["dumps"] = {
            "plain": inst_mod.dump(env["conninfo"](), dumps / "tradeagent_20251114_030000.sql", "plain"),
            "gzip": inst_mod.dump(env["conninfo"](), dumps / "tradeagent_20251114_030000.sql.gz", "gzip"),
            "custom": inst_mod.dump(env["conninfo"](), dumps / "tradeagent_20251114_030000.dump", "custom"),
        }
        yield env
    finally:
        run(["bash", script, "stop", str(cluster_dir)], check=False)
        shutil.rmtree(cluster_dir, ignore_errors=True)


# ---------------------------------------------------------------- helpers
def read_everything(spec: str) -> tuple[dict[str, src.SourceTable], dict[str, list[tuple]], src.Source]:
    """Every table of a source: table objects (hash set) and their rows."""
    with src.open_source(spec) as source:
        tables, refused = source.read_all()
        assert not refused, [str(r) for r in refused]
        rows = {name: list(table.rows()) for name, table in tables.items()}
    return tables, rows, source


def by_id(table: src.SourceTable, rows: list[tuple]) -> dict[str, dict[str, str | None]]:
    return {row[0]: dict(zip(table.columns, row)) for row in rows}


def shift_text(value: str | None) -> str | None:
    """Naive India text -> naive UTC text (the PostgreSQL convention)."""
    if value is None:
        return None
    return src.to_text(datetime.fromisoformat(value) - IST)


def as_postgres(table: str, row: dict, release: date, positions_release: date) -> dict:
    """A SQLite row (naive India time) as app-database.md says PostgreSQL holds it."""
    if table == "orders":
        utc = row["placed_at"] < release.isoformat()
        columns = src.TIMESTAMP_COLUMNS if utc else set()
    elif table == "positions":
        utc = row["opened_at"] is not None and row["opened_at"] < positions_release.isoformat()
        columns = src.TIMESTAMP_COLUMNS if utc else set()
    else:
        columns = {"filled_at", "created_at"}
    return {c: shift_text(v) if c in columns else v for c, v in row.items()}


def file_state(path: Path) -> tuple[str, int]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


def everything_text(rows: dict[str, list[tuple]]) -> str:
    return "\n".join(repr(r) for table_rows in rows.values() for r in table_rows)


def assert_no_secret_sql(statements: list[str]) -> None:
    assert statements, "no SQL recorded"
    for sql in statements:
        lowered = sql.lower()
        assert "usersettings" not in lowered and "broker_creds" not in lowered, sql
        assert "password" not in lowered and "token" not in lowered, sql
        assert " users" not in lowered and '"users"' not in lowered, sql
        assert "select *" not in lowered, sql


# ---------------------------------------------------------------- values, specs (no database)
def test_column_lists_are_the_loaders() -> None:
    """A source table maps 1:1 onto raw.orders / raw.positions."""
    import load_raw

    assert list(src.ORDER_COLUMNS) == load_raw.ORDER_COLUMNS
    assert list(src.POSITION_COLUMNS) == load_raw.POSITION_COLUMNS
    assert list(src.TABLES["orders"].required) == load_raw.ORDER_REQUIRED
    assert list(src.TABLES["positions"].required) == load_raw.POSITION_REQUIRED


def test_values_as_text() -> None:
    assert src.to_text(None) is None
    assert src.to_text(36.0) == "36" and src.to_text(-0.0) == "0" and src.to_text(7) == "7"
    assert src.to_text(2110.8) == "2110.8" and src.to_text(80210.40000000001) == "80210.40000000001"
    assert src.to_text(0.1 + 0.2) == "0.30000000000000004" and src.to_text(1e-05) == "1e-05"
    assert src.to_text(1e16) == "1e+16" and src.to_text(float("nan")) == "NaN"
    assert src.to_text(datetime(2025, 10, 6, 9, 21, 56)) == "2025-10-06 09:21:56"
    assert src.to_text(datetime(2025, 10, 6, 9, 21, 56, 120000)) == "2025-10-06 09:21:56.120000"
    assert src.to_text("2025-10-06 09:21:56.000000", "timestamp") == "2025-10-06 09:21:56"
    assert src.to_text("2025-10-06T09:21:56.12", "timestamp") == "2025-10-06 09:21:56.120000"
    assert src.to_text("2025-10-06T09:21:56+05:30", "timestamp") == "2025-10-06T09:21:56+05:30"  # untouched
    assert src.to_text("not a time", "timestamp") == "not a time"
    assert src.to_text("1e+15", "float") == "1000000000000000" and src.to_text("Infinity", "float") == "Infinity"
    assert src.to_text("abc", "float") == "abc"  # SQLite keeps text in a FLOAT column: kept for staging
    assert src.to_text('{"a": 1.50}') == '{"a": 1.50}'  # JSON as stored
    assert src.to_text(True) == "true" and src.to_text("t", "bool") == "true"


def test_copy_text_format_unescaped() -> None:
    assert src.copy_unescape("\\N") is None
    assert src.copy_unescape("") == ""
    assert src.copy_unescape("a\\tb\\nc\\rd\\\\e") == "a\tb\nc\rd\\e"
    assert src.copy_unescape("caf\\303\\251 \\x41\\101") == "café AA"
    assert src.copy_unescape("\\N\\N") == "NN"  # only a whole \N field is NULL
    assert src.copy_unescape("x\\q") == "xq"


def test_content_hash_definition() -> None:
    columns, rows = ("id", "a"), [("1", None), ("2", "x\ty")]
    expected = hashlib.sha256(b'["id","a"]\n["1",null]\n["2","x\\ty"]\n').hexdigest()
    assert src.content_hash(columns, rows) == expected
    assert src.content_hash(columns, [("1", "null")]) != src.content_hash(columns, [("1", None)])


def test_specs_names_and_redaction(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    inst_mod.write_sqlite(inst_mod.Installation([], [], [], []), tmp_path / "data" / "app.db")
    spec = src.parse_spec("sqlite:///./data/app.db", base_dir=tmp_path)
    assert (spec.kind, spec.name, Path(spec.location)) == ("sqlite", "app_db", tmp_path / "data" / "app.db")
    assert src.parse_spec("old=sqlite:///data/app.db", base_dir=tmp_path).name == "old"
    assert src.parse_spec(f"sqlite:///{tmp_path}/data/app.db").kind == "sqlite"  # sqlite://// + absolute
    assert src.parse_spec(str(tmp_path / "data" / "app.db")).kind == "sqlite"  # a plain path, by its magic
    url = "postgresql+psycopg2://trader:p%40ss w0rd@127.0.0.1:5432/tradeagent"
    spec = src.parse_spec(url)
    assert (spec.kind, spec.name) == ("postgresql", "tradeagent")
    assert spec.display == "postgresql://trader:***@127.0.0.1:5432/tradeagent"
    assert "p@ss" not in repr(spec) and "p%40ss" not in repr(spec)
    assert src.parse_spec("new=postgresql://trader@db:5432/tradeagent").name == "new"
    assert src.parse_spec(str(tmp_path)).kind == "folder"
    (tmp_path / "tradeagent_20251114_030000.sql.gz").write_bytes(b"\x1f\x8b\x08\x00")
    assert src.parse_spec(str(tmp_path / "tradeagent_20251114_030000.sql.gz")).name == "tradeagent_20251114_030000"
    for bad in ("sqlite:///missing.db", "mysql://x/y", str(tmp_path / "nope.sql")):
        with pytest.raises(src.SourceError) as err:
            src.parse_spec(bad, base_dir=tmp_path)
        assert "\n" not in str(err.value)


# ---------------------------------------------------------------- SQLite
def test_sqlite_reads_the_installation_and_writes_nothing(installation: dict) -> None:
    app_db: Path = installation["app_db"]
    before = file_state(app_db)
    tables, rows, source = read_everything(f"sqlite:///{app_db}")
    assert file_state(app_db) == before, "the SQLite file changed while being read"
    assert not Path(str(app_db) + "-journal").exists() and not Path(str(app_db) + "-wal").exists()
    inst = installation["inst"]
    truth_orders = sum(1 for _ in open(installation["truth"] / "orders_truth.csv")) - 1
    assert len(inst.orders) == truth_orders  # newest version of each simulated order
    for name, typed in (("orders", inst.orders), ("positions", inst.positions), ("fills", inst.fills)):
        table = tables[name]
        assert table.row_count == len(typed) == len(rows[name]) > 0
        ids = [int(r[0]) for r in rows[name]]
        assert ids == sorted(ids), f"{name} not in id order"
        expected = [tuple(src.to_text(t.get(c)) for c in table.columns) for t in typed]
        assert rows[name] == expected, name
        assert table.content_hash == src.content_hash(table.columns, expected)
    assert SECRET.encode() in app_db.read_bytes()  # the secrets are there ...
    assert SECRET not in everything_text(rows)  # ... and never read
    assert_no_secret_sql(source.sql_log)
    assert any(s.lower() == "begin" for s in source.sql_log) and source.sql_log[-1].lower() == "rollback"


def test_fills_sum_to_execution_qty_at_execution_price(installation: dict) -> None:
    """R9.2's inputs: fills of an order add up to execution_qty, their VWAP is execution_price."""
    orders = {o["id"]: o for o in installation["inst"].orders}
    by_order: dict[int, list[dict]] = {}
    for fill in installation["inst"].fills:
        by_order.setdefault(fill["order_id"], []).append(fill)
    assert sum(1 for fills in by_order.values() if len(fills) >= 2) >= 10, "too few partial fills"
    assert any(len(fills) == 3 for fills in by_order.values())
    executed = {i for i, o in orders.items() if (o["execution_qty"] or 0) > 0 and (o["execution_price"] or 0) > 0}
    assert set(by_order) == executed
    for order_id, fills in by_order.items():
        order = orders[order_id]
        qty = sum(f["quantity"] for f in fills)
        vwap = sum(f["quantity"] * f["price"] for f in fills) / qty
        assert qty == order["execution_qty"]
        assert abs(vwap - order["execution_price"]) <= 1e-9 * order["execution_price"]
        assert max(f["filled_at"] for f in fills) == order["execution_time"]
        assert all(f["charges"] == 0 and f["broker_fill_id"] is None for f in fills)


def test_sqlite_snapshot_holds_while_the_app_writes(installation: dict, tmp_path: Path) -> None:
    """WAL mode: the app commits during our read and we still see one snapshot; rollback-journal
    mode: our shared lock makes the app's commit wait (documented in DECISIONS.md)."""
    wal_db = tmp_path / "wal.db"
    shutil.copy(installation["app_db"], wal_db)
    with sqlite3.connect(wal_db) as con:
        con.execute("pragma journal_mode = wal")
    app = sqlite3.connect(wal_db, isolation_level=None)
    with src.open_source(f"sqlite:///{wal_db}") as source:
        orders = source.table("orders")
        first = next(iter(orders.rows()))  # the snapshot starts no later than here
        app.execute("insert into orders (id, user_id, symbol, side, quantity, status, placed_at)"
                    " values (999999, 1, 'TCS-EQ', 'buy', 1, 'pending', '2025-11-14 10:00:00.000000')")
        app.execute("delete from fills")
        assert source.table("fills").row_count == len(installation["inst"].fills)
        assert source.table("orders").row_count == orders.row_count
        assert first[0] == str(installation["inst"].orders[0]["id"])
    app.close()

    journal_db = tmp_path / "journal.db"
    shutil.copy(installation["app_db"], journal_db)
    app = sqlite3.connect(journal_db, isolation_level=None, timeout=0.2)
    with src.open_source(f"sqlite:///{journal_db}") as source:
        source.table("orders").row_count  # shared lock taken
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            app.execute("delete from fills")
    app.execute("delete from fills")  # once the read is over, the app writes again
    app.close()


def test_sqlite_refused_and_optional_tables(installation: dict, tmp_path: Path) -> None:
    broken = tmp_path / "broken.db"
    shutil.copy(installation["app_db"], broken)
    with sqlite3.connect(broken) as con:
        con.execute("drop table positions")
        con.execute("alter table orders drop column status")
        con.execute("alter table fills drop column charges")  # optional: read as NULL
    with src.open_source(f"broken=sqlite:///{broken}") as source:
        tables, refused = source.read_all()
        assert sorted((r.source, r.table) for r in refused) == [("broken", "orders"), ("broken", "positions")]
        messages = {r.table: str(r) for r in refused}
        assert messages["orders"].startswith("refused broken.orders: missing required column(s) status")
        assert messages["positions"] == "refused broken.positions: no such table"
        assert list(tables) == ["fills"]
        fills = list(tables["fills"].rows())
        assert len(fills) == len(installation["inst"].fills)
        charges = tables["fills"].columns.index("charges")
        assert all(row[charges] is None for row in fills)
        assert "charges" not in tables["fills"].present_columns
        with pytest.raises(src.RefusedTable) as err:
            source.table("orders")
        assert (err.value.source, err.value.table) == ("broken", "orders")
    without_fills = tmp_path / "old.db"
    shutil.copy(installation["app_db"], without_fills)
    with sqlite3.connect(without_fills) as con:
        con.execute("drop table fills")
    with src.open_source(f"sqlite:///{without_fills}") as source:
        tables, refused = source.read_all()
        assert sorted(tables) == ["orders", "positions"] and not refused


def test_cli_bad_specs_are_one_line(installation: dict, tmp_path: Path) -> None:
    for spec in ("sqlite:///no/such/app.db", "mysql://u@h/db", str(tmp_path / "missing.sql.gz")):
        result = python("app_sources.py", spec, check=False)
        assert result.returncode == 2, (spec, result.stdout, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    result = python("app_sources.py", f"sqlite:///{installation['app_db']}", "--table", "orders", "--limit", "1")
    assert "orders: " in result.stdout and "sha256" in result.stdout and "positions" not in result.stdout


# ---------------------------------------------------------------- PostgreSQL and dumps
def pg_table_counters(pg: dict, db: str = "tradeagent") -> dict:
    import psycopg

    with psycopg.connect(**{**pg["admin"], "dbname": db}, autocommit=True) as con:
        con.execute("select pg_stat_clear_snapshot()")
        return {row[0]: row[1:] for row in con.execute(
            "select relname, n_tup_ins, n_tup_upd, n_tup_del, n_tup_hot_upd from pg_stat_user_tables"
            " where relname in ('orders', 'positions', 'fills') order by relname").fetchall()}


def wait_for_counters(pg: dict, expected_inserts: dict[str, int]) -> dict:
    """Statistics reach shared memory up to a second after a session ends."""
    deadline = time.monotonic() + 15
    while True:
        counters = pg_table_counters(pg)
        if all(counters.get(t, (0,))[0] == n for t, n in expected_inserts.items()) or time.monotonic() > deadline:
            return counters
        time.sleep(0.3)


@pytest.mark.postgres
def test_every_form_gives_the_same_rows(installation: dict, pg: dict) -> None:
    """SQLite, live PostgreSQL, plain, gzipped and custom dumps: same ids, same content per id
    once PostgreSQL's naive UTC is accounted for; the PostgreSQL forms agree byte for byte."""
    sqlite_tables, sqlite_rows, _ = read_everything(f"sqlite:///{installation['app_db']}")
    # live: the app's DB_URL form, password included
    forms = {"live": pg["url"](), **{k: str(v) for k, v in pg["dumps"].items()}}
    release, positions_release = installation["release"], installation["positions_release"]
    results = {form: read_everything(spec) for form, spec in forms.items()}
    reference_tables, reference_rows, _ = results["live"]
    assert SECRET in pg["dumps"]["plain"].read_text()  # the dumps hold the secrets ...
    for form, (_, rows, source) in results.items():
        assert SECRET not in everything_text(rows), form  # ... which are never read
        if form == "live":
            assert_no_secret_sql(source.sql_log)
    for name in ("orders", "positions", "fills"):
        expected = {i: as_postgres(name, row, release, positions_release)
                    for i, row in by_id(sqlite_tables[name], sqlite_rows[name]).items()}
        for form, (tables, rows, _) in results.items():
            got = by_id(tables[name], rows[name])
            assert tables[name].row_count == len(expected), (form, name)
            assert got.keys() == expected.keys(), (form, name)
            different = [i for i in expected if got[i] != expected[i]]
            assert not different, (form, name, different[:3], got[different[0]], expected[different[0]])
            assert tables[name].content_hash == reference_tables[name].content_hash, (form, name)
            assert [int(r[0]) for r in rows[name]] == sorted(int(r[0]) for r in rows[name])
    # both PostgreSQL conventions occur in this installation
    orders = by_id(sqlite_tables["orders"], sqlite_rows["orders"]).values()
    assert {o["placed_at"] < release.isoformat() for o in orders} == {True, False}
    # names: the database's, the dump's file stem
    assert results["live"][2].name == "tradeagent"
    assert results["gzip"][2].name == "tradeagent_20251114_030000"
    assert results["custom"][2].kind == "dump_custom" and results["plain"][2].kind == "dump_plain"


@pytest.mark.postgres
def test_postgres_read_is_one_read_only_snapshot_and_writes_nothing(installation: dict, pg: dict) -> None:
    inst = installation["inst"]
    counters = wait_for_counters(pg, {"orders": len(inst.orders), "fills": len(inst.fills)})
    assert counters["orders"][0] == len(inst.orders)
    with src.open_source(pg["url"]()) as source:
        con = source._con  # the reader's own session
        settings = con.execute("select current_setting('transaction_isolation'),"
                               " current_setting('transaction_read_only')").fetchone()
        assert settings == ("repeatable read", "on")
        tables, refused = source.read_all()
        rows = {name: list(t.rows()) for name, t in tables.items()}
        with pytest.raises(Exception, match="read-only transaction"):
            con.execute("delete from fills")
    assert not refused and SECRET not in everything_text(rows)
    assert_no_secret_sql(source.sql_log)
    assert source.sql_log[0].startswith("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
    time.sleep(1.2)
    assert pg_table_counters(pg) == counters, "the read changed a table's insert/update/delete counters"


@pytest.mark.postgres
def test_postgres_snapshot_ignores_concurrent_commits(installation: dict, pg: dict) -> None:
    """The app commits between our reads of two tables: orders, positions and fills still
    come from one snapshot; the next read sees the commit."""
    import psycopg

    conninfo = pg["conninfo"]("tradeagent_snapshot")
    inst_mod.write_postgres(installation["inst"], conninfo)
    inst = installation["inst"]
    with src.open_source(pg["url"]("tradeagent_snapshot")) as source:
        orders = source.table("orders")
        with psycopg.connect(conninfo, autocommit=True) as app:
            app.execute("delete from fills where id % 2 = 0")
            app.execute("delete from positions")
        assert source.table("fills").row_count == len(inst.fills)
        assert sum(1 for _ in source.table("positions").rows()) == len(inst.positions)
        assert sum(1 for _ in orders.rows()) == len(inst.orders)
    with src.open_source(pg["url"]("tradeagent_snapshot")) as source:
        assert source.table("positions").row_count == 0
        assert source.table("fills").row_count == len(inst.fills) - len(inst.fills) // 2


@pytest.mark.postgres
def test_dump_rows_come_back_in_id_order(installation: dict, pg: dict, monkeypatch, tmp_path: Path) -> None:
    """A dump holds rows in physical order (an updated row moves to the end); the reader sorts
    them by id, in bounded memory (external merge, forced here with small chunks)."""
    import psycopg

    conninfo = pg["conninfo"]("tradeagent_shuffled")
    inst_mod.write_postgres(installation["inst"], conninfo, release=installation["release"],
                            positions_release=installation["positions_release"])
    with psycopg.connect(conninfo, autocommit=True) as con:
        con.execute("update orders set retry_count = coalesce(retry_count, 0) where id % 7 = 0")
        con.execute("update positions set quantity = quantity where id % 5 = 0")
    plain = inst_mod.dump(conninfo, tmp_path / "shuffled.sql", "plain")
    ids = []
    for line in plain.read_text().split("COPY public.orders ", 1)[1].splitlines()[1:]:
        if line == "\\.":
            break
        ids.append(int(line.split("\t", 1)[0]))
    assert ids != sorted(ids), "the dump should hold the orders out of id order"
    monkeypatch.setattr(src, "SORT_CHUNK_ROWS", 97)
    dump_tables, dump_rows, _ = read_everything(str(plain))
    live_tables, live_rows, _ = read_everything(pg["url"]("tradeagent_shuffled"))
    for name in ("orders", "positions", "fills"):
        assert dump_rows[name] == live_rows[name], name
        assert dump_tables[name].content_hash == live_tables[name].content_hash


@pytest.mark.postgres
def test_postgres_and_dump_refuse_a_broken_table(installation: dict, pg: dict, tmp_path: Path) -> None:
    import psycopg

    conninfo = pg["conninfo"]("tradeagent_broken")
    inst_mod.write_postgres(installation["inst"], conninfo)
    with psycopg.connect(conninfo, autocommit=True) as con:
        con.execute("drop table positions")
        con.execute("alter table orders drop column user_id")
        con.execute("alter table fills drop column fill_value")
    dump = inst_mod.dump(conninfo, tmp_path / "broken.sql.gz", "gzip")
    for spec in (pg["url"]("tradeagent_broken"), f"backup={dump}"):
        with src.open_source(spec) as source:
            tables, refused = source.read_all()
        name = source.name
        assert sorted((r.source, r.table) for r in refused) == [(name, "orders"), (name, "positions")], spec
        orders = next(r for r in refused if r.table == "orders")
        assert str(orders).startswith(f"refused {name}.orders: missing required column(s) user_id")
        assert list(tables) == ["fills"]
        assert tables["fills"].row_count == len(installation["inst"].fills)
        assert "fill_value" not in tables["fills"].present_columns
    result = python("app_sources.py", f"backup={dump}", check=False)
    assert result.returncode == 1
    assert "refused backup.orders" in result.stderr and "fills: " in result.stdout


@pytest.mark.postgres
def test_unreachable_server_and_wrong_password_are_one_redacted_line(pg: dict) -> None:
    closed = free_port()
    cases = {
        f"postgresql://trader@127.0.0.1:{closed}/tradeagent":
            f"cannot connect to postgresql://trader@127.0.0.1:{closed}/tradeagent: connection to server at",
        f"postgresql+psycopg2://trader:{PASSWORD}@127.0.0.1:{closed}/tradeagent":
            f"cannot connect to postgresql://trader:***@127.0.0.1:{closed}/tradeagent: connection to server at",
        f"postgresql+psycopg2://trader:wrong-{PASSWORD}@127.0.0.1:{pg['port']}/tradeagent":
            f"cannot connect to postgresql://trader:***@127.0.0.1:{pg['port']}/tradeagent:",
    }
    for url, start in cases.items():
        with pytest.raises(src.SourceError) as err:
            src.open_source(url, connect_timeout=3)
        message = str(err.value)
        assert message.startswith(start), message
        assert "\n" not in message and PASSWORD not in message, message
        result = python("app_sources.py", url, "--connect-timeout", "3", check=False)
        assert result.returncode == 2
        assert result.stderr.strip().splitlines() == [f"app_sources: {message}"], result.stderr
        assert PASSWORD not in result.stdout + result.stderr
    assert "password authentication failed" in message
    # a successful read with the password in the URL prints it nowhere either
    result = python("app_sources.py", pg["url"](), "--limit", "2")
    assert "postgresql://trader:***@" in result.stdout and PASSWORD not in result.stdout + result.stderr
    with src.open_source(pg["url"]()) as source:
        assert PASSWORD not in repr(source) + source.display_name + repr(source.spec)


@pytest.mark.postgres
def test_custom_dump_without_pg_restore_is_one_line(pg: dict) -> None:
    from conftest import project_env

    result = python("app_sources.py", str(pg["dumps"]["custom"]), check=False,
                    env=project_env(PG_RESTORE="/nonexistent/pg_restore"))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "needs pg_restore, which is not installed" in lines[0], result.stderr


@pytest.mark.postgres
def test_two_eras_split(installation: dict, pg: dict, tmp_path: Path) -> None:
    """Orders placed before the cut in a SQLite era with their ids, the rest in a PostgreSQL era
    whose ids restart at 1; the mapping file leads back to the same content."""
    inst = installation["inst"]
    cut = installation["release"]
    split = inst_mod.split_eras(inst, cut, tmp_path / "old" / "app.db", pg["conninfo"]("tradeagent_era2"),
                                tmp_path / "eras.csv", release=installation["release"],
                                positions_release=installation["positions_release"])
    whole_tables, whole_rows, _ = read_everything(f"sqlite:///{installation['app_db']}")
    whole = {name: by_id(whole_tables[name], whole_rows[name]) for name in whole_tables}
    old_tables, old_rows, old_source = read_everything(f"old=sqlite:///{tmp_path / 'old' / 'app.db'}")
    new_tables, new_rows, new_source = read_everything(f"new={pg['url']('tradeagent_era2')}")
    assert (old_source.name, new_source.name) == ("old", "new")
    mapping: dict[tuple[str, str], dict[str, str]] = {}
    with (tmp_path / "eras.csv").open() as handle:
        for row in csv.DictReader(handle):
            mapping.setdefault((row["table"], row["era"]), {})[row["id"]] = row["original_id"]
    for name in ("orders", "positions"):
        old = by_id(old_tables[name], old_rows[name])
        new = by_id(new_tables[name], new_rows[name])
        assert len(old) + len(new) == len(whole[name]) and old and new
        assert sorted(int(i) for i in new) == list(range(1, len(new) + 1))
        assert mapping[(name, "sqlite")] == {i: i for i in old}
        assert set(mapping[(name, "postgresql")]) == set(new)
        for era_id, row in old.items():
            assert row == whole[name][era_id]
        for era_id, row in new.items():
            original = dict(whole[name][mapping[(name, "postgresql")][era_id]], id=era_id)
            assert row == as_postgres(name, original, installation["release"],
                                      installation["positions_release"]), (name, era_id)
    cut_text = cut.isoformat()
    assert all(o["placed_at"] < cut_text for o in by_id(old_tables["orders"], old_rows["orders"]).values())
    # fills follow their orders into each era
    new_orders = by_id(new_tables["orders"], new_rows["orders"])
    new_fills = new_rows["fills"]
    order_col = new_tables["fills"].columns.index("order_id")
    assert new_fills and all(f[order_col] in new_orders for f in new_fills)
    assert len(old_rows["fills"]) + len(new_fills) == len(inst.fills)
    assert split.mapping == tmp_path / "eras.csv"
