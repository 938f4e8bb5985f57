"""The same project on Spark (dbt-spark's session method, a local pyspark):
generated data loaded into DuckDB and exported as Parquet for Spark, a full
`dbt build` on both, every mart compared row by row.

Slow (a JVM and a Hive metastore per dbt command), so it has its own marker
and make target: `make test-spark` (SPARK_ORDERS, default 2000); `make test`
deselects it (pytest.ini), and it is skipped where requirements-spark.txt is
not installed."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from conftest import BIN, PROJECT, generate_and_build, project_env, python, record_summary, run
from engine_compare import compare_marts, duckdb_tables, parquet_tables

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module", autouse=True)
def spark_installed() -> None:
    """Checked only when the test is selected (make test deselects the marker)."""
    pytest.importorskip("pyspark", reason="Spark is not installed: make test-spark installs requirements-spark.txt")
    pytest.importorskip("dbt.adapters.spark", reason="dbt-spark is not installed: make test-spark")

SPARK_ORDERS = int(os.environ.get("SPARK_TEST_ORDERS", "2000"))
SPARK_SEED = 20251126


@pytest.fixture(scope="session")
def spark_built() -> dict[str, Path]:
    started = time.monotonic()
    reference = generate_and_build(PROJECT / "target" / "spark_e2e", SPARK_SEED, SPARK_ORDERS)
    duck_seconds = time.monotonic() - started
    root = PROJECT / "target" / "spark_e2e"
    paths = {**reference, "duckdb": reference["warehouse"], "spark_stage": root / "spark_stage.duckdb",
             "spark_dir": root / "spark", "parquet": root / "spark" / "raw_parquet",
             "spark_target": root / "dbt_target_spark"}
    python("load_raw.py", "--raw-dir", str(paths["raw"]), "--warehouse", str(paths["spark_stage"]),
           "--target", "spark", "--parquet-dir", str(paths["parquet"]), "--quiet")
    spark_env = project_env(
        DBT_TARGET="spark",
        DBT_SPARK_DIR=str(paths["spark_dir"]),
        DBT_SPARK_RAW_DIR=str(paths["parquet"]),
        SPARK_LOCAL_IP="127.0.0.1",
    )
    started = time.monotonic()
    run([str(BIN / "dbt"), "build", "--target-path", str(paths["spark_target"])], env=spark_env, timeout=3600)
    record_summary(f"spark: dbt build of {SPARK_ORDERS} generated orders in {time.monotonic() - started:.0f}s"
                   f" (DuckDB, with generation and load: {duck_seconds:.0f}s)")
    return paths


def test_marts_identical_on_spark_and_duckdb(spark_built: dict[str, Path]) -> None:
    reference = duckdb_tables(str(spark_built["duckdb"]))
    # Spark's marts are Parquet tables under its warehouse dir; DuckDB reads them (no second JVM).
    other = parquet_tables(str(spark_built["spark_dir"] / "warehouse" / "marts.db"))
    assert len(reference) >= 5, sorted(reference)
    problems, rows = compare_marts(reference, other)
    record_summary(f"spark: {len(reference)} marts, {rows} rows compared with DuckDB, {len(problems)} differences")
    assert not problems, "\n".join(problems[:40])
