"""The nightly job publishes safely: an analyst's open read-only connection never
blocks it and never sees a half-built warehouse; a killed run or a failing data
test leaves the published warehouse unchanged and readable."""
from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from conftest import PROJECT, project_env, python

ANALYST = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
print(con.execute("select count(*) from marts.fct_orders").fetchone()[0], flush=True)
sys.stdin.readline()  # hold the connection open while the nightly runs
print(con.execute("select count(*) from marts.fct_orders").fetchone()[0], flush=True)
"""


def nightly(raw: Path, published: Path, *extra: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return python("nightly.py", "--raw-dir", str(raw), "--published", str(published),
                  "--target-path", str(published.parent / "dbt_target"), "--skip-docs", *extra, check=check)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def order_count(path: Path) -> int:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("select count(*) from marts.fct_orders").fetchone()[0]
    finally:
        con.close()


@pytest.fixture(scope="module")
def site() -> dict[str, Path]:
    root = PROJECT / "target" / "nightly_test"
    shutil.rmtree(root, ignore_errors=True)
    full = root / "full_raw"
    python("generate_sample_data.py", "--out", str(full), "--truth", str(root / "truth"),
           "--seed", "5", "--orders", "2000", "--quiet")
    raw = root / "raw"
    shutil.copytree(full, raw)
    exports = sorted((raw / "orders").iterdir())
    held_back = root / "held_back"
    held_back.mkdir()
    shutil.move(str(exports[-1]), held_back / exports[-1].name)  # tomorrow's export
    published = root / "published" / "warehouse.duckdb"
    first = nightly(raw, published)
    assert "publish:" in first.stdout
    return {"root": root, "raw": raw, "held_back": held_back, "published": published}


def test_analyst_keeps_reading_through_a_nightly_and_then_sees_new_data(site: dict[str, Path]) -> None:
    published = site["published"]
    analyst = subprocess.Popen([sys.executable, "-c", ANALYST, str(published)], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
    try:
        before = int(analyst.stdout.readline())
        for export in site["held_back"].iterdir():
            shutil.copy2(export, site["raw"] / "orders" / export.name)
        run = nightly(site["raw"], published)
        assert "publish:" in run.stdout
        analyst.stdin.write("go\n")
        analyst.stdin.flush()
        still = int(analyst.stdout.readline())
    finally:
        analyst.kill()
    assert still == before, "an open connection keeps the warehouse it opened"
    after = order_count(published)
    assert after > before, "the next connection sees the new night's orders"


def test_killed_run_leaves_the_published_warehouse(site: dict[str, Path]) -> None:
    published = site["published"]
    before = digest(published)
    (site["raw"] / "orders" / "orders_9999-01-01_extra.csv").write_text(
        "id,user_id,symbol,side,quantity,status,placed_at\n999999,1,TCS-EQ,buy,1,pending,2099-01-01 09:15:00\n")
    process = subprocess.Popen(
        [sys.executable, str(PROJECT / "scripts" / "nightly.py"), "--raw-dir", str(site["raw"]),
         "--published", str(published), "--target-path", str(published.parent / "dbt_target"), "--skip-docs"],
        cwd=PROJECT, env=project_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True)
    deadline = time.monotonic() + 300
    for line in process.stdout:
        if "dbt build:" in line or time.monotonic() > deadline:
            break
    time.sleep(3)  # let dbt get going
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert digest(published) == before
    assert order_count(published) > 0
    # The next run starts again from the published warehouse and publishes.
    run = nightly(site["raw"], published)
    assert "restore: working copy from" in run.stdout
    assert digest(published) != before
    con = duckdb.connect(str(published), read_only=True)
    try:
        assert con.execute("select count(*) from marts.fct_orders where order_id = 999999").fetchone()[0] == 1
    finally:
        con.close()


def test_failing_data_test_publishes_nothing(site: dict[str, Path]) -> None:
    published = site["published"]
    before = digest(published)
    # A negative charge rate makes the estimated charges (R8.4) negative: the data tests that charges
    # are >= 0 (fct_orders, fct_daily_pnl) fail. The unit tests, whose expected charges assume the
    # default rate, are left out so that the build fails on a data test, not before the marts exist.
    run = nightly(site["raw"], published, "--full-refresh", "--dbt-arg=--vars", "--dbt-arg={charge_pct: -0.1}",
                  "--dbt-arg=--exclude", "--dbt-arg=test_type:unit", check=False)
    assert run.returncode == 1
    failures = [line for line in run.stdout.splitlines() if "Failure in test" in line]
    assert any("charges" in line for line in failures), failures
    assert "nothing published: step 'dbt build' failed" in run.stdout
    assert digest(published) == before
    assert order_count(published) > 0


def test_partial_night_is_built_but_published_only_when_allowed(site: dict[str, Path]) -> None:
    """A refused raw file: the job builds what loaded, keeps the last good warehouse and names the file;
    --allow-partial publishes the partial night. Both exit 1."""
    published = site["published"]
    before = digest(published)
    broken = site["raw"] / "orders" / "orders_9999-02-01_broken.csv"
    broken.write_text("foo,bar\n1,2\n")
    (site["raw"] / "orders" / "orders_9999-02-02_extra.csv").write_text(
        "id,user_id,symbol,side,quantity,status,placed_at\n999998,1,TCS-EQ,buy,1,pending,2099-01-02 09:15:00\n")
    try:
        run = nightly(site["raw"], published, check=False)
        assert run.returncode == 1
        assert "nothing published: partial night (refused orders/orders_9999-02-01_broken.csv)" in run.stdout
        assert digest(published) == before
        allowed = nightly(site["raw"], published, "--allow-partial", check=False)
        assert allowed.returncode == 1
        assert "a partial night (--allow-partial)" in allowed.stdout
        con = duckdb.connect(str(published), read_only=True)
        try:
            assert con.execute("select count(*) from marts.fct_orders where order_id = 999998").fetchone()[0] == 1
        finally:
            con.close()
    finally:
        broken.unlink()
