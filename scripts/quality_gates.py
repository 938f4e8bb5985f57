"""Quality gates on dbt artifacts: dbt-bouncer rules, doc coverage, tests that prove something.

    make gates        # builds target/gates (small sample, `dbt run --empty`, docs generate), then this
    .venv/bin/python scripts/quality_gates.py --artifacts target/gates/dbt_target

Gates (each must pass; all are run and reported before the exit code is set):
1. dbt-bouncer with quality/dbt-bouncer.yml: layer folders and stg_/int_/fct_|dim_|rpt_
   prefixes, a primary-key test on every model, only staging reads sources, no chain of
   more than five views, marts with enforced contracts, sources with freshness.
2. dbt-coverage doc: every column of every model is documented (100%). Source
   (raw) tables are reported but not gated (see README "Quality gates"). Every macro
   that is not an engine version (duckdb__x, ...) has a description (macros/_macros.yml).
3. Tests as evidence (no test only to fill a coverage count): every `relationships` test
   points at a key (a column with a `unique` test, or a key of a `unique_combination`);
   every `accepted_values` lists at least two values; no `not_null` on a column the SQL
   itself coalesces to a literal (it cannot fail); every column documented in yml
   exists in the built relation (catalog.json), so docs cannot describe a column the
   model no longer has. The grain test on every model is dbt-bouncer's
   check_model_has_primary_key_test.

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


COALESCED = re.compile(
    r"coalesce\((?:[^()\n]|\([^()\n]*\))*,\s*(?:-?\d+(?:\.\d+)?|'[^'\n]*'|true|false)\s*\)\s+as\s+(\w+)",
    re.IGNORECASE)


def test_evidence(artifacts: Path) -> bool:
    """Flag tests that cannot fail or that test the wrong thing, and yml columns the models lack."""
    manifest = json.loads((artifacts / "manifest.json").read_text())
    catalog = json.loads((artifacts / "catalog.json").read_text())
    nodes = manifest["nodes"]
    models = {uid: node for uid, node in nodes.items()
              if node["resource_type"] == "model" and node["package_name"] == manifest["metadata"].get(
                  "project_name", node["package_name"])}
    by_ref = {f"ref('{node['name']}')": uid for uid, node in models.items()}
    tests = [node for node in nodes.values() if node["resource_type"] == "test" and node.get("test_metadata")]
    keys: dict[str, set[str]] = {uid: set() for uid in models}
    for test in tests:
        name, kwargs, model = test["test_metadata"]["name"], test["test_metadata"]["kwargs"], test.get("attached_node")
        if model not in keys:
            continue
        if name == "unique" and test.get("column_name"):
            keys[model].add(test["column_name"].lower())
        if name == "unique_combination":
            keys[model].update(column.lower() for column in kwargs.get("combination_of_columns", []))
    problems: list[str] = []
    for test in tests:
        name, kwargs, model = test["test_metadata"]["name"], test["test_metadata"]["kwargs"], test.get("attached_node")
        if model not in models:
            continue
        where = f"{models[model]['name']}.{test.get('column_name') or ''}"
        if name == "relationships":
            target = by_ref.get(str(kwargs.get("to", "")).replace('"', "'"))
            field = str(kwargs.get("field", "")).lower()
            if target is None or field not in keys[target]:
                problems.append(f"relationships on {where} -> {kwargs.get('to')}.{field}: not a key there "
                                "(relationships belong on keys; compare measures with a reconciliation test)")
        elif name == "accepted_values" and len(kwargs.get("values") or []) < 2:
            problems.append(f"accepted_values on {where} lists {kwargs.get('values')}: one value is a filter, "
                            "not an enum (test the filter's rule instead)")
        elif name == "not_null" and test.get("column_name"):
            coalesced = {column.lower() for column in COALESCED.findall(models[model].get("raw_code", ""))}
            if test["column_name"].lower() in coalesced and not (test.get("config") or {}).get("where"):
                problems.append(f"not_null on {where}: the model coalesces it to a literal, the test cannot fail")
    for uid, node in models.items():
        built = catalog.get("nodes", {}).get(uid)
        if built is None:
            continue
        present = {column.lower() for column in built["columns"]}
        for column in node.get("columns", {}):
            if column.lower() not in present:
                problems.append(f"{node['name']}.{column}: documented in yml but not a column of the model")
    status = "ok" if not problems else "FAILED"
    print(f"tests as evidence: {len(tests)} data tests, {len(models)} models - {status}")
    for problem in problems:
        print(f"    {problem}")
    return not problems


ENGINE_VERSION = re.compile(r"^(duckdb|postgres|spark|default)__")


def macro_docs(artifacts: Path) -> bool:
    """Every macro of the project that is not an engine version (duckdb__x, postgres__x, ...) is
    documented (macros/_macros.yml; generic tests in tests/generic/_generic_tests.yml)."""
    manifest = json.loads((artifacts / "manifest.json").read_text())
    project = manifest["metadata"].get("project_name", "trading_warehouse")
    macros = [macro for macro in manifest.get("macros", {}).values()
              if macro.get("package_name") == project and not ENGINE_VERSION.match(macro["name"])]
    missing = sorted(f"{macro['name']} ({macro.get('original_file_path', '?')})" for macro in macros
                     if not (macro.get("description") or "").strip())
    print(f"macro docs: {len(macros) - len(missing)}/{len(macros)} macros described - {'ok' if not missing else 'FAILED'}")
    for name in missing:
        print(f"    no description: {name}")
    return not missing


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
        "tests as evidence": test_evidence(artifacts),
        "macro docs": macro_docs(artifacts),
    }
    if sources:
        coverage(artifacts, "doc", sources, None, "(source tables, informational)", gate=False)
    failed = [name for name, ok in results.items() if not ok]
    print(f"quality gates: {'FAILED: ' + ', '.join(failed) if failed else 'all passed'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
