"""Quality gates on dbt artifacts: dbt-bouncer rules, doc coverage, mart test coverage.

    make gates        # builds target/gates (small sample, `dbt run --empty`, docs generate), then this
    .venv/bin/python scripts/quality_gates.py --artifacts target/gates/dbt_target

Gates (each must pass; all are run and reported before the exit code is set):
1. dbt-bouncer with quality/dbt-bouncer.yml: layer folders and stg_/int_/fct_|dim_|rpt_
   prefixes, a primary-key test on every model, only staging reads sources, no chain of
   more than five views, marts with enforced contracts, sources with freshness.
2. dbt-coverage doc: every column of every model is documented (100%). Source
   (raw) tables are reported but not gated (see README "Quality gates").
3. dbt-coverage test: every column of every mart (models/marts) has a data test (100%).

It needs manifest.json and catalog.json in --artifacts (`dbt docs generate`).
Exit codes: 0 every gate passed; 1 a gate failed; 2 missing artifacts or tools.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Sequence

import yaml

PROJECT = Path(__file__).resolve().parents[1]
MODELS = "models/"
MARTS = "models/marts"


def bouncer(artifacts: Path, config: Path) -> bool:
    """Run dbt-bouncer on `artifacts` with `config` (artifact and custom-check paths made absolute)."""
    settings = yaml.safe_load(config.read_text())
    settings["dbt_artifacts_dir"] = str(artifacts.resolve())
    if settings.get("custom_checks_dir"):
        settings["custom_checks_dir"] = str((PROJECT / settings["custom_checks_dir"]).resolve())
    executable = Path(sys.executable).parent / "dbt-bouncer"
    with tempfile.TemporaryDirectory(prefix="bouncer-") as scratch:
        resolved = Path(scratch) / "dbt-bouncer.yml"
        resolved.write_text(yaml.safe_dump(settings, sort_keys=False))
        failures_file = Path(scratch) / "failures.json"
        result = subprocess.run([str(executable), "run", "--config-file", str(resolved), "--output-file",
                                 str(failures_file), "--output-format", "json", "--output-only-failures"],
                                cwd=PROJECT, capture_output=True, text=True, env=dict(os.environ, COLUMNS="200"))
        failures = json.loads(failures_file.read_text()) if failures_file.exists() else None
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    counts = next((re.search(r"SUCCESS=\d+ WARN=\d+ ERROR=\d+", line) for line in reversed(lines)
                   if re.search(r"SUCCESS=\d+ WARN=\d+ ERROR=\d+", line)), None)
    summary = counts.group(0) if counts else f"exited {result.returncode}"
    if result.returncode != 0 and not failures:  # dbt-bouncer itself failed (bad config, missing artifact)
        print("\n".join(lines[-40:]))
    print(f"dbt-bouncer ({config.relative_to(PROJECT)}): {summary}")
    for failure in (failures if isinstance(failures, list) else []):
        check = str(failure.get("check_run_id", "")).split(":")
        print(f"    {check[0]} {check[-1]}: {failure.get('failure_message', '')}")
    return result.returncode == 0


def coverage(artifacts: Path, kind: str, include: list[str], exclude: list[str] | None, label: str,
             gate: bool = True) -> bool:
    """Compute dbt-coverage `kind` over the tables whose file path starts with `include`;
    print the uncovered columns; gate at 100% unless `gate` is false."""
    import dbt_coverage

    catalog = dbt_coverage.load_files(PROJECT, artifacts).filter_tables(include, exclude)
    report = dbt_coverage.compute_coverage(catalog, dbt_coverage.CoverageType(kind))
    missing = sorted((ref.table_name, ref.column_name) for ref in report.total - report.covered)
    tables = len(report.subentities)
    status = "ok" if not missing else ("FAILED" if gate else "not gated")
    print(f"dbt-coverage {kind} {label}: {len(report.covered)}/{len(report.total)} columns of {tables} tables "
          f"({report.coverage:.1%}) - {status}")
    shown = missing if gate else missing[:10]
    for table, column in shown:
        print(f"    {'no description' if kind == 'doc' else 'no data test'}: {table}.{column}")
    if len(shown) < len(missing):
        print(f"    ... and {len(missing) - len(shown)} more")
    return not missing or not gate


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     epilog="Exit codes: 0 all gates pass, 1 a gate failed, 2 missing artifacts.")
    parser.add_argument("--artifacts", type=Path, default=PROJECT / "target" / "gates" / "dbt_target",
                        help="dbt target dir with manifest.json and catalog.json (default: target/gates/dbt_target)")
    parser.add_argument("--bouncer-config", type=Path, default=PROJECT / "quality" / "dbt-bouncer.yml",
                        help="dbt-bouncer config (default: quality/dbt-bouncer.yml)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    artifacts = args.artifacts.resolve()
    missing = [name for name in ("manifest.json", "catalog.json") if not (artifacts / name).exists()]
    if missing:
        print(f"quality_gates: {', '.join(missing)} missing in {artifacts}: run `dbt docs generate "
              f"--target-path {args.artifacts}` on a built warehouse (make gates does)", file=sys.stderr)
        return 2
    sources = sorted(str(path.relative_to(PROJECT)) for path in (PROJECT / "models").rglob("_*__sources.yml"))
    results = {
        "dbt-bouncer": bouncer(artifacts, args.bouncer_config.resolve()),
        "doc coverage": coverage(artifacts, "doc", [MODELS], sources or None, "(every model column)"),
        "mart test coverage": coverage(artifacts, "test", [MARTS], None, "(every mart column)"),
    }
    if sources:
        coverage(artifacts, "doc", sources, None, "(source tables, informational)", gate=False)
    failed = [name for name, ok in results.items() if not ok]
    print(f"quality gates: {'FAILED: ' + ', '.join(failed) if failed else 'all passed'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
