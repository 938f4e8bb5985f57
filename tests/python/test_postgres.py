"""The same project on PostgreSQL: a throwaway cluster started by the project's
own script (scripts/pg_cluster.sh, which installs PostgreSQL when missing),
generated data loaded into DuckDB and into PostgreSQL, a full `dbt build` on
both, every mart compared row by row, and the analyst role's grants."""
from __future__ import annotations

import shutil
import socket
import tempfile
import time
from pathlib import Path

import pytest

from conftest import BIN, PROJECT, generate_and_build, project_env, python, record_summary, run
from engine_compare import compare_marts, duckdb_tables, postgres_tables

psycopg = pytest.importorskip("psycopg")

pytestmark = pytest.mark.postgres

PG_ORDERS = 5000
PG_SEED = 20251125
UPSTREAM_SCHEMAS = ("raw", "staging", "intermediate", "quarantine")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def pg_env() -> dict[str, str]:
    """Start a cluster with scripts/pg_cluster.sh; its PG* environment; stopped afterwards."""
    # Not under pytest's tmp dir: the postgres user must be able to reach the data folder.
    cluster_dir = Path(tempfile.mkdtemp(prefix="trading_pg_", dir="/tmp"))
    script = str(PROJECT / "scripts" / "pg_cluster.sh")
    started = time.monotonic()
    result = run(["bash", script, "start", str(cluster_dir), str(free_port())], timeout=900)
    env = {}
    for line in result.stdout.splitlines():
        if line.startswith("export ") and "=" in line:
            key, value = line[len("export "):].split("=", 1)
            env[key] = value
    record_summary(f"postgres: cluster started by scripts/pg_cluster.sh in {time.monotonic() - started:.1f}s")
    try:
        yield env
    finally:
        run(["bash", script, "stop", str(cluster_dir)], check=False)
        shutil.rmtree(cluster_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_built(pg_env: dict[str, str]) -> dict[str, Path]:
    started = time.monotonic()
    reference = generate_and_build(PROJECT / "target" / "pg_e2e", PG_SEED, PG_ORDERS)
    duck_seconds = time.monotonic() - started
    root = PROJECT / "target" / "pg_e2e"
    paths = {**reference, "duckdb": reference["warehouse"], "pg_stage": root / "pg_stage.duckdb",
             "pg_target": root / "dbt_target_postgres"}
    python("load_raw.py", "--raw-dir", str(paths["raw"]), "--warehouse", str(paths["pg_stage"]),
           "--target", "postgres", "--quiet", env=project_env(**pg_env))
    started = time.monotonic()
    run([str(BIN / "dbt"), "build", "--target-path", str(paths["pg_target"])],
        env=project_env(**pg_env, DBT_TARGET="postgres"))
    record_summary(f"postgres: dbt build of {PG_ORDERS} generated orders in {time.monotonic() - started:.0f}s"
                   f" (DuckDB, with generation and load: {duck_seconds:.0f}s)")
    return paths


def conninfo(env: dict[str, str], user: str, password: str) -> str:
    return (f"host={env['PGHOST']} port={env['PGPORT']} dbname={env['PGDATABASE']}"
            f" user={user} password={password}")


def test_marts_identical_on_postgres_and_duckdb(pg_env: dict[str, str], pg_built: dict[str, Path]) -> None:
    reference = duckdb_tables(str(pg_built["duckdb"]))
    other = postgres_tables(conninfo(pg_env, pg_env["PGUSER"], pg_env["PGPASSWORD"]))
    assert len(reference) >= 5, sorted(reference)
    problems, rows = compare_marts(reference, other)
    record_summary(f"postgres: {len(reference)} marts, {rows} rows compared with DuckDB,"
                   f" {len(problems)} differences")
    assert not problems, "\n".join(problems[:40])


def test_analyst_reads_marts_and_nothing_upstream(pg_env: dict[str, str], pg_built: dict[str, Path]) -> None:
    analyst = conninfo(pg_env, pg_env["DBT_PG_ANALYST_USER"], pg_env["DBT_PG_ANALYST_PASSWORD"])
    with psycopg.connect(analyst, autocommit=True) as con:
        marts = [r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'").fetchall()]
        assert "fct_positions" in marts
        for mart in marts:
            con.execute(f'select count(*) from marts."{mart}"').fetchone()
        assert con.execute("select count(*) from marts.fct_positions").fetchone()[0] > 0
        for schema, relation in [("raw", "orders"), ("raw", "load_log"),
                                 ("staging", "stg_trading_app__orders"),
                                 ("intermediate", "int_orders_deduplicated"),
                                 ("quarantine", "quarantined_rows")]:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                con.execute(f"select count(*) from {schema}.{relation}").fetchone()
        # and no way to write to the marts either
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            con.execute("delete from marts.fct_positions")


def test_loader_mirrors_raw_schema_into_postgres(pg_env: dict[str, str], pg_built: dict[str, Path]) -> None:
    """Same raw tables, rows and load metadata as the loader's DuckDB file; loading again adds nothing."""
    pg = project_env(**pg_env)
    python("load_raw.py", "--raw-dir", str(pg_built["raw"]), "--warehouse", str(pg_built["pg_stage"]),
           "--target", "postgres", "--quiet", env=pg)
    reference = duckdb_tables(str(pg_built["pg_stage"]), schema="raw")
    other = postgres_tables(conninfo(pg_env, pg_env["PGUSER"], pg_env["PGPASSWORD"]), schema="raw")
    problems, rows = compare_marts(reference, other)
    assert rows > 0
    assert not problems, "\n".join(problems[:20])
    with psycopg.connect(conninfo(pg_env, pg_env["PGUSER"], pg_env["PGPASSWORD"])) as con:
        assert con.execute("select count(*) from raw.load_log where action = 'skipped'").fetchone()[0] == 0
        assert con.execute("select count(distinct source_file) from raw.load_log").fetchone()[0] == \
            len(list(pg_built["raw"].rglob("*.*")))
