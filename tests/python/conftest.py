"""Shared pytest fixtures: paths, and running the project's CLIs in subprocesses.

dbt and the loader always run in their own process: DuckDB lets one process
write a file, and dbt-duckdb would otherwise keep its connection open.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SUMMARY: list[str] = []

# The end-to-end warehouse (fixture `built`): generated sample data, loaded and built once per session.
E2E_ORDERS = 20_000
E2E_SEED = 20251124


# Set by `make test` for its own children: a `make` run by a test must behave as one a person
# types (no `make[1]:` prefix, no jobserver of the outer make).
OUTER_MAKE_VARIABLES = ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES")


def project_env(**extra: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name not in OUTER_MAKE_VARIABLES}
    env.update(
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
        DBT_PROFILES_DIR=str(PROJECT),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def run(args: list[str], *, env: dict[str, str] | None = None, check: bool = True,
        timeout: int = 1800) -> subprocess.CompletedProcess[str]:
    """Run a command from the project folder; on failure show its output."""
    result = subprocess.run(args, cwd=PROJECT, env=env or project_env(), capture_output=True,
                            text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(args)} exited {result.returncode}\n--- stdout\n{result.stdout[-6000:]}"
            f"\n--- stderr\n{result.stderr[-6000:]}"
        )
    return result


def python(script: str, *args: str, **kwargs) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, str(PROJECT / "scripts" / script), *args], **kwargs)


def dbt(*args: str, warehouse: Path, target_path: Path, **kwargs) -> subprocess.CompletedProcess[str]:
    env = project_env(WAREHOUSE=str(warehouse), DBT_TARGET="duckdb")
    return run([str(BIN / "dbt"), *args, "--target-path", str(target_path)], env=env, **kwargs)


def record_summary(line: str) -> None:
    """A line printed at the end of the pytest run (e.g. agreement with the truth)."""
    SUMMARY.append(line)


def pytest_terminal_summary(terminalreporter) -> None:
    if SUMMARY:
        terminalreporter.section("warehouse figures")
        for line in SUMMARY:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def project() -> Path:
    return PROJECT


def generate_and_build(root: Path, seed: int, orders: int) -> dict[str, Path]:
    """Simulate `orders` orders with `seed` under `root`, load them and `dbt build` on DuckDB:
    the reference warehouse of the end-to-end and the engine-comparison tests."""
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    paths = {
        "raw": root / "raw",
        "truth": root / "truth",
        "warehouse": root / "warehouse.duckdb",
        "target": root / "dbt_target",
    }
    python("generate_sample_data.py", "--out", str(paths["raw"]), "--truth", str(paths["truth"]),
           "--seed", str(seed), "--orders", str(orders), "--quiet")
    python("load_raw.py", "--raw-dir", str(paths["raw"]), "--warehouse", str(paths["warehouse"]), "--quiet")
    dbt("build", warehouse=paths["warehouse"], target_path=paths["target"])
    return paths


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> dict[str, Path]:
    """Generate sample data, load it and `dbt build` into target/e2e (shared by the end-to-end,
    browser and metrics tests)."""
    return generate_and_build(PROJECT / "target" / "e2e", E2E_SEED, E2E_ORDERS)


@pytest.fixture(scope="session")
def docs_site(built: dict[str, Path]) -> Path:
    """`dbt docs generate --static` on the end-to-end warehouse: the single-file docs site."""
    dbt("docs", "generate", "--static", warehouse=built["warehouse"], target_path=built["target"])
    return built["target"] / "static_index.html"


@pytest.fixture(scope="session")
def report(built: dict[str, Path]) -> Path:
    """`scripts/report.py` on the end-to-end warehouse: the HTML report with plots."""
    out = built["target"].parent / "report.html"
    # Relative to the project (the subprocess's cwd), so the report names target/e2e/warehouse.duckdb.
    python("report.py", "--warehouse", str(built["warehouse"].relative_to(PROJECT)), "--out", str(out), "--quiet")
    return out


@pytest.fixture(scope="session")
def metrics_answers(built: dict[str, Path], tmp_path_factory) -> dict[str, Path | str]:
    """`scripts/metrics.py --all` (MetricFlow `mf query`) on the end-to-end warehouse.

    MetricFlow reads <project>/target/semantic_manifest.json; so that the shared target/
    is left alone, it runs in a scratch project dir whose dbt_project.yml and profiles.yml
    link to the project's and whose target/ is the end-to-end dbt target."""
    scratch = tmp_path_factory.mktemp("mf_project")
    for name in ("dbt_project.yml", "profiles.yml"):
        (scratch / name).symlink_to(PROJECT / name)
    (scratch / "target").symlink_to(built["target"], target_is_directory=True)
    csv_dir = built["target"].parent / "metrics"
    result = python("metrics.py", "--project-dir", str(scratch), "--csv-dir", str(csv_dir), "--all",
                    env=project_env(WAREHOUSE=str(built["warehouse"]), DBT_PROFILES_DIR=str(scratch)))
    return {"transcript": result.stdout, "csv_dir": csv_dir}
