"""Issue 14: one simulated installation of the app, loaded from each form a user has
(a raw folder, the app's SQLite file, the live PostgreSQL database, its plain,
gzipped and custom-format pg_dump backups), builds the same marts; two eras
(SQLite, then PostgreSQL with ids restarted at 1) build like the same
installation held in one database; bad input from a database gets what bad
files get; nothing is written to the app's database.

The installation is app_installation.load_raw_folder of a small simulation; the
folder form is written from the same Installation object (one orders,
positions and fills export, the history files copied), so every form holds the
same data. Every form is named ``app`` (R9.1 identity is the source name and the
id), so the marts compare whole, except the columns that say which form the
row came from (``source_kind``, ``source_file``, and ``position_row_id``, which is
the positions row's file and row). PostgreSQL orders placed before
the release (and positions opened before theirs) hold naive UTC: those builds
get the naive-UTC window vars, as a user of such a database would set them.

PostgreSQL: a throwaway cluster (scripts/pg_cluster.sh, $PG_CLUSTER_DIR /
$PG_CLUSTER_PORT or a temporary one), marker ``postgres``."""
from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import socket
import sqlite3
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

import pytest

from conftest import BIN, PROJECT, project_env, python, run
from engine_compare import compare_marts, duckdb_tables

sys.path.insert(0, str(PROJECT / "scripts"))
import app_installation as inst_mod  # noqa: E402
import app_sources as src  # noqa: E402

pytestmark = pytest.mark.postgres
psycopg = pytest.importorskip("psycopg")

ORDERS = 1200
SEED = 20261214
PASSWORD = "tr4der-S3cret!y"
FORM_COLUMNS = {"source_kind", "source_file", "position_row_id"}  # name the form a row came from: not compared


# ---------------------------------------------------------------- fixtures
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_folder(inst: inst_mod.Installation, raw: Path, out: Path) -> Path:
    """The folder form of an installation: one export per table (values as the database
    readers give them), the simulator's history files copied."""
    shutil.rmtree(out, ignore_errors=True)
    for table, rows in (("orders", inst.orders), ("positions", inst.positions), ("fills", inst.fills)):
        columns = [c for c, _, _ in inst_mod.SCHEMAS[table]]
        (out / table).mkdir(parents=True)
        with (out / table / f"{table}.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(columns)
            for row in rows:
                writer.writerow(["" if row.get(c) is None else src.to_text(row.get(c)) for c in columns])
    shutil.copytree(raw / "trade_history", out / "trade_history")
    return out


def history_args(raw: Path) -> list[str]:
    return [arg for path in sorted((raw / "trade_history").rglob("*.json")) for arg in ("--history", str(path))]


@pytest.fixture(scope="module")
def installation(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("sources")
    raw = root / "raw"
    python("generate_sample_data.py", "--out", str(raw), "--truth", str(root / "truth"), "--seed", str(SEED),
           "--orders", str(ORDERS), "--quiet")
    inst = inst_mod.load_raw_folder(raw)
    placed = sorted(o["placed_at"] for o in inst.orders)
    opened = sorted(p["opened_at"] for p in inst.positions if p["opened_at"])
    app_db = root / "data" / "app.db"
    inst_mod.write_sqlite(inst, app_db)
    return {
        "root": root, "raw": raw, "inst": inst, "app_db": app_db,
        "folder": write_folder(inst, raw, root / "folder"),
        # release dates inside the data, so that both PostgreSQL conventions occur
        "release": placed[len(placed) // 2].date(),
        "positions_release": opened[len(opened) // 2].date(),
        "cut": placed[len(placed) * 2 // 5].date(),
        "era_release": placed[len(placed) * 7 // 10].date(),
        "era_positions_release": opened[len(opened) * 7 // 10].date(),
    }


@pytest.fixture(scope="module")
def pg(installation: dict) -> dict:
    """A throwaway cluster, role ``trader`` (password) owning ``tradeagent`` (the installation)
    and ``tradeagent_era2`` (the PostgreSQL era), plus the three dumps of ``tradeagent``."""
    cluster_dir = Path(os.environ.get("PG_CLUSTER_DIR") or tempfile.mkdtemp(prefix="wt14_sources_pg_", dir="/tmp"))
    port = int(os.environ.get("PG_CLUSTER_PORT") or free_port())
    script = str(PROJECT / "scripts" / "pg_cluster.sh")
    run(["bash", script, "stop", str(cluster_dir)], check=False)
    run(["bash", script, "start", str(cluster_dir), str(port)], timeout=900)
    try:
        admin = {"host": str(cluster_dir / "socket"), "port": port, "user": "postgres", "dbname": "postgres"}
        with psycopg.connect(**admin, autocommit=True) as con:
            con.execute(f"create role trader login password '{PASSWORD}'")
            for db in ("tradeagent", "tradeagent_era2"):
                con.execute(f"create database {db} owner trader")
        conninfo = lambda db: f"host=127.0.0.1 port={port} dbname={db} user=trader password={PASSWORD}"  # noqa: E731
        inst_mod.write_postgres(installation["inst"], conninfo("tradeagent"), release=installation["release"],
                                positions_release=installation["positions_release"])
        backups = installation["root"] / "backups"
        dumps = {fmt: inst_mod.dump(conninfo("tradeagent"), backups / f"tradeagent_20261201_030000{suffix}", fmt)
                 for fmt, suffix in (("plain", ".sql"), ("gzip", ".sql.gz"))}
        if shutil.which("pg_restore"):
            dumps["custom"] = inst_mod.dump(conninfo("tradeagent"), backups / "tradeagent_20261201_030000.dump",
                                            "custom")
        yield {"port": port, "admin": admin, "conninfo": conninfo, "dumps": dumps,
               "url": lambda db="tradeagent": f"postgresql://trader@127.0.0.1:{port}/{db}"}
    finally:
        run(["bash", script, "stop", str(cluster_dir)], check=False)
        shutil.rmtree(cluster_dir, ignore_errors=True)


def load_and_build(root: Path, name: str, sources: list[str], history: list[str], dbt_vars: dict | None = None,
                   env: dict | None = None) -> Path:
    """load_raw.py --source ... into <root>/<name>.duckdb, then dbt build; the warehouse."""
    warehouse = root / f"{name}.duckdb"
    warehouse.unlink(missing_ok=True)
    environment = project_env(PGPASSWORD=PASSWORD, **(env or {}))
    args = [arg for spec in sources for arg in ("--source", spec)]
    python("load_raw.py", *args, *history, "--warehouse", str(warehouse), "--quiet", env=environment)
    dbt_args = [str(BIN / "dbt"), "build", "--target-path", str(root / f"{name}_target"), "--quiet"]
    if dbt_vars:
        dbt_args += ["--vars", json.dumps(dbt_vars)]
    run(dbt_args, env=project_env(WAREHOUSE=str(warehouse), DBT_TARGET="duckdb"))
    return warehouse


def marts(warehouse: Path, drop: set[str] = FORM_COLUMNS) -> dict:
    tables = {}
    for name, (columns, rows) in duckdb_tables(str(warehouse)).items():
        keep = [i for i, c in enumerate(columns) if c not in drop]
        tables[name] = ([columns[i] for i in keep], [tuple(row[i] for i in keep) for row in rows])
    return tables


def naive_utc_vars(orders_from: date, orders_until: date, positions_from: date, positions_until: date) -> dict:
    return {"naive_utc_from": str(orders_from), "naive_utc_until": str(orders_until),
            "positions_naive_utc_from": str(positions_from), "positions_naive_utc_until": str(positions_until)}


@pytest.fixture(scope="module")
def reference(installation: dict) -> Path:
    """The SQLite form: every other form is compared with it."""
    return load_and_build(installation["root"], "sqlite", [f"app=sqlite:///{installation['app_db']}"],
                          history_args(installation["raw"]))


# ---------------------------------------------------------------- every form, the same marts
def test_every_form_builds_the_same_marts(installation: dict, pg: dict, reference: Path) -> None:
    root, raw = installation["root"], installation["raw"]
    window = naive_utc_vars(date(2000, 1, 1), installation["release"], date(2000, 1, 1),
                            installation["positions_release"])
    expected = marts(reference)
    counts = {name: len(rows) for name, (_columns, rows) in expected.items()}
    assert counts["fct_orders"] == len(installation["inst"].orders)
    assert counts["fct_positions"] > 0 and counts["rpt_orders_vs_fills"] == 0
    con = __import__("duckdb").connect(str(reference), read_only=True)
    try:  # R9.2: every order the fills table covers has its fill_count
        fill_counts = con.execute("select sum(fill_count), count(*) filter (where fill_count > 0)"
                                  " from marts.fct_orders").fetchone()
    finally:
        con.close()
    assert fill_counts[0] == len(installation["inst"].fills)

    forms = {"folder": ([f"app={installation['folder']}"], [], None)}
    forms["postgresql"] = ([f"app={pg['url']()}"], history_args(raw), window)
    for fmt, path in pg["dumps"].items():
        forms[f"dump_{fmt}"] = ([f"app={path}"], history_args(raw), window)
    failures = {}
    for name, (sources, history, dbt_vars) in forms.items():
        warehouse = load_and_build(root, name, sources, history, dbt_vars)
        problems, rows = compare_marts(expected, marts(warehouse))
        if problems:
            failures[name] = problems[:5]
        else:
            assert rows == sum(counts.values())
    assert not failures, failures
    assert "custom" in pg["dumps"] or shutil.which("pg_restore") is None


def test_loading_a_database_again_adds_nothing(installation: dict, reference: Path) -> None:
    """A table whose content did not change since the last load is skipped; the same history
    file named twice (and the folder's own history) adds nothing."""
    result = python("load_raw.py", "--source", f"app=sqlite:///{installation['app_db']}",
                    *history_args(installation["raw"]), *history_args(installation["raw"]),
                    "--warehouse", str(reference), "--quiet")
    assert "loaded" not in result.stdout and "replaced" not in result.stdout, result.stdout
    assert "skipped" in result.stdout


# ---------------------------------------------------------------- read-only, refusals, connection errors
def pg_counters(pg: dict, db: str) -> dict:
    with psycopg.connect(**{**pg["admin"], "dbname": db}, autocommit=True) as con:
        con.execute("select pg_stat_clear_snapshot()")
        return {row[0]: row[1:] for row in con.execute(
            "select relname, n_tup_ins, n_tup_upd, n_tup_del from pg_stat_user_tables order by relname").fetchall()}


def test_nothing_is_written_to_the_app_database(installation: dict, pg: dict, tmp_path: Path) -> None:
    app_db = installation["app_db"]
    before_sqlite = (sha256(app_db), app_db.stat().st_mtime_ns)
    time.sleep(1.5)  # statistics of earlier sessions reach shared memory
    before_pg = pg_counters(pg, "tradeagent")
    python("load_raw.py", "--source", f"a=sqlite:///{app_db}", "--source", f"b={pg['url']()}",
           "--warehouse", str(tmp_path / "w.duckdb"), "--quiet", env=project_env(PGPASSWORD=PASSWORD))
    time.sleep(1.5)
    assert (sha256(app_db), app_db.stat().st_mtime_ns) == before_sqlite
    assert not [p for p in app_db.parent.iterdir() if p.name != app_db.name], "the reader left a file beside app.db"
    assert pg_counters(pg, "tradeagent") == before_pg


def test_a_broken_table_is_refused_by_name_and_the_rest_loads(installation: dict, tmp_path: Path) -> None:
    no_positions, no_status = tmp_path / "no_positions.db", tmp_path / "no_status.db"
    for path in (no_positions, no_status):
        shutil.copy(installation["app_db"], path)
    with sqlite3.connect(no_positions) as con:
        con.execute("drop table positions")
    with sqlite3.connect(no_status) as con:
        con.execute("alter table orders drop column status")
    hashes = {path: sha256(path) for path in (no_positions, no_status)}
    warehouse = tmp_path / "w.duckdb"
    result = python("load_raw.py", "--source", f"old=sqlite:///{no_positions}", "--source",
                    f"broken=sqlite:///{no_status}", "--warehouse", str(warehouse), "--quiet", check=False)
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert any(line.startswith("load_raw: refused old.positions: ") for line in lines), lines
    assert any(line.startswith("load_raw: refused broken.orders: missing required column(s) status")
               for line in lines), lines
    assert "Traceback" not in result.stderr
    con = __import__("duckdb").connect(str(warehouse), read_only=True)
    try:
        loaded = dict(con.execute("select _source_name || '.' || _source_file, count(*) from"
                                  " (select _source_name, _source_file from raw.orders union all"
                                  "  select _source_name, _source_file from raw.positions union all"
                                  "  select _source_name, _source_file from raw.fills) group by 1").fetchall())
    finally:
        con.close()
    inst = installation["inst"]
    assert loaded == {"old.table:orders": len(inst.orders), "old.table:fills": len(inst.fills),
                      "broken.table:positions": len(inst.positions), "broken.table:fills": len(inst.fills)}
    assert {path: sha256(path) for path in hashes} == hashes


def test_unreachable_server_and_wrong_password_are_one_line(pg: dict, tmp_path: Path) -> None:
    closed = free_port()
    cases = {
        "unreachable": (f"postgresql://trader@127.0.0.1:{closed}/tradeagent", {}),
        "wrong password": (f"postgresql+psycopg2://trader:not-{PASSWORD}@127.0.0.1:{pg['port']}/tradeagent", {}),
    }
    for case, (spec, env) in cases.items():
        result = python("load_raw.py", "--source", spec, "--warehouse", str(tmp_path / f"{case}.duckdb"), "--quiet",
                        check=False, env=project_env(PGPASSWORD="", **env))
        lines = result.stderr.strip().splitlines()
        assert result.returncode != 0, case
        assert "Traceback" not in result.stderr and PASSWORD not in result.stderr + result.stdout, case
        problem = [line for line in lines if "cannot connect" in line]
        assert len(problem) == 1, (case, lines)


# ---------------------------------------------------------------- two eras
def test_two_eras_build_like_one_database(installation: dict, pg: dict, reference: Path) -> None:
    """SQLite era (ids as they were) then PostgreSQL era (ids from 1): every order kept
    once, books walked across the eras, marts equal to the one-database installation
    once the PostgreSQL era's ids are mapped back."""
    root, raw = installation["root"], installation["raw"]
    old_era, new_era, mapping = inst_mod.split_installation(installation["inst"], installation["cut"])
    old_db = root / "old" / "app.db"
    inst_mod.write_sqlite(old_era, old_db)
    inst_mod.write_postgres(new_era, pg["conninfo"]("tradeagent_era2"), release=installation["era_release"],
                            positions_release=installation["era_positions_release"])
    window = naive_utc_vars(installation["cut"], installation["era_release"], installation["cut"],
                            installation["era_positions_release"])
    # the SQLite era keeps the name of the one-database installation (`app`), the PostgreSQL era is `new`
    warehouse = load_and_build(root, "eras", [f"app=sqlite:///{old_db}", f"new={pg['url']('tradeagent_era2')}"],
                               history_args(raw), window)
    original = {era_id: original_id for table, era, era_id, original_id in mapping
                if table == "orders" and era == "postgresql"}
    original_position = {era_id: original_id for table, era, era_id, original_id in mapping
                         if table == "positions" and era == "postgresql"}
    assert len(original) == len(new_era.orders) > 0 and len(old_era.orders) > 0

    con = __import__("duckdb").connect(str(warehouse), read_only=True)
    try:
        per_source = dict(con.execute("select source_name, count(*) from marts.fct_orders group by 1").fetchall())
        crossing = con.execute(
            "select count(*) from (select position_id from marts.fct_orders where position_id is not null"
            " group by position_id having count(distinct source_name) = 2)").fetchone()[0]
    finally:
        con.close()
    assert per_source == {"app": len(old_era.orders), "new": len(new_era.orders)}
    spanning = [p for p in installation["inst"].positions if p["opened_at"] and p["closed_at"]
                and p["opened_at"] < datetime.combine(installation["cut"], datetime.min.time()) <= p["closed_at"]]
    if spanning:
        assert crossing > 0, "no cycle opened in the SQLite era and closed in the PostgreSQL era"

    def mapped(tables: dict) -> dict:
        out = {}
        for name, (columns, rows) in tables.items():
            pairs = [(columns.index(s), columns.index(o), ids) for s, o, ids in
                     (("source_name", "order_id", original), ("parent_source_name", "parent_order_id", original),
                      ("initial_source_name", "initial_order_id", original),
                      ("source_name", "app_position_id", original_position)) if s in columns and o in columns]
            finding = columns.index("finding_id") if "finding_id" in columns else None
            new_rows = []
            for old in rows:
                row = list(old)
                for s, o, ids in pairs:
                    if old[s] == "new":
                        row[s] = "app"
                        row[o] = None if old[o] is None else ids[old[o]]
                if finding is not None and isinstance(row[finding], str) and row[finding].startswith("order#new:"):
                    row[finding] = f"order#app:{original[int(row[finding].split(':')[1])]}"
                new_rows.append(tuple(row))
            out[name] = (columns, new_rows)
        return out

    drop = FORM_COLUMNS | {"order_fill_check_id"}
    problems, _rows = compare_marts(marts(reference, drop), mapped(marts(warehouse, drop)))
    assert not problems, problems[:8]
