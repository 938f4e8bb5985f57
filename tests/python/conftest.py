"""Shared pytest fixtures: paths, and running the project's CLIs in subprocesses.

dbt and the loader always run in their own process: DuckDB lets one process
write a file, and dbt-duckdb would otherwise keep its connection open.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SUMMARY: list[str] = []


def project_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
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
    env = project_env(WAREHOUSE=str(warehouse))
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
