"""The "tests as evidence" gate (scripts/quality_gates.py) on small hand-made dbt artifacts:
each kind of test that cannot fail, or tests the wrong thing, is reported; sound tests pass."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from conftest import PROJECT

sys.path.insert(0, str(PROJECT / "scripts"))
import quality_gates  # noqa: E402


def model(name: str, columns: list[str], raw_code: str = "select 1") -> dict:
    return {"resource_type": "model", "package_name": "trading_warehouse", "name": name, "raw_code": raw_code,
            "columns": {column: {"name": column} for column in columns}}


def data_test(test: str, model_name: str, column: str | None, config: dict | None = None, **kwargs) -> dict:
    return {"resource_type": "test", "package_name": "trading_warehouse", "column_name": column,
            "attached_node": f"model.trading_warehouse.{model_name}", "config": config or {},
            "test_metadata": {"name": test, "kwargs": dict(kwargs, column_name=column)}}


def write(tmp_path: Path, models: list[dict], tests: list[dict], built: dict[str, list[str]]) -> Path:
    nodes = {f"model.trading_warehouse.{node['name']}": node for node in models}
    nodes.update({f"test.trading_warehouse.t{index}": test for index, test in enumerate(tests)})
    (tmp_path / "manifest.json").write_text(json.dumps(
        {"metadata": {"project_name": "trading_warehouse"}, "nodes": nodes}))
    (tmp_path / "catalog.json").write_text(json.dumps({"nodes": {
        f"model.trading_warehouse.{name}": {"columns": {column: {"name": column} for column in columns}}
        for name, columns in built.items()}}))
    return tmp_path


ORDERS = model("fct_orders", ["order_id", "fill_price", "is_manual"],
               "select order_id, fill_price, coalesce(orig_source = 'manual', false) as is_manual from x")
POSITIONS = model("fct_positions", ["position_id", "order_id", "status"])
SOUND = [
    data_test("unique", "fct_orders", "order_id"),
    data_test("relationships", "fct_positions", "order_id", to="ref('fct_orders')", field="order_id"),
    data_test("accepted_values", "fct_positions", "status", values=["open", "closed"]),
    data_test("not_null", "fct_orders", "fill_price"),
]
BUILT = {"fct_orders": ["order_id", "fill_price", "is_manual"], "fct_positions": ["position_id", "order_id", "status"]}


def test_sound_tests_pass(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert quality_gates.test_evidence(write(tmp_path, [ORDERS, POSITIONS], SOUND, BUILT))
    assert "- ok" in capsys.readouterr().out


@pytest.mark.parametrize("bad, expected", [
    (data_test("relationships", "fct_positions", "fill_price", to="ref('fct_orders')", field="fill_price"),
     "not a key there"),
    (data_test("accepted_values", "fct_positions", "status", values=["closed"]), "one value is a filter"),
    (data_test("not_null", "fct_orders", "is_manual"), "the test cannot fail"),
], ids=["relationships on a measure", "accepted_values of one value", "not_null on a coalesced column"])
def test_a_test_that_proves_nothing_fails_the_gate(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   bad: dict, expected: str) -> None:
    assert not quality_gates.test_evidence(write(tmp_path, [ORDERS, POSITIONS], SOUND + [bad], BUILT))
    assert expected in capsys.readouterr().out


def test_not_null_with_a_where_is_not_flagged(tmp_path: Path) -> None:
    scoped = data_test("not_null", "fct_orders", "is_manual", config={"where": "order_id > 0"})
    assert quality_gates.test_evidence(write(tmp_path, [ORDERS, POSITIONS], SOUND + [scoped], BUILT))


def test_a_documented_column_the_model_lacks_fails_the_gate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stale = model("fct_positions", ["position_id", "order_id", "status", "quarantine_reason"])
    assert not quality_gates.test_evidence(write(tmp_path, [ORDERS, stale], SOUND, BUILT))
    assert "fct_positions.quarantine_reason: documented in yml but not a column" in capsys.readouterr().out


def test_an_undocumented_macro_fails_the_macro_gate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    macros = {
        "macro.trading_warehouse.market_date": {"name": "market_date", "package_name": "trading_warehouse",
                                                "description": "R1.7: the India date of an instant."},
        "macro.trading_warehouse.duckdb__market_date": {"name": "duckdb__market_date",
                                                        "package_name": "trading_warehouse", "description": ""},
        "macro.trading_warehouse.surrogate_key": {"name": "surrogate_key", "package_name": "trading_warehouse",
                                                  "description": "", "original_file_path": "macros/keys.sql"},
    }
    (tmp_path / "manifest.json").write_text(json.dumps(
        {"metadata": {"project_name": "trading_warehouse"}, "nodes": {}, "macros": macros}))
    assert not quality_gates.macro_docs(tmp_path)
    out = capsys.readouterr().out
    assert "no description: surrogate_key (macros/keys.sql)" in out and "duckdb__market_date" not in out
    del macros["macro.trading_warehouse.surrogate_key"]
    (tmp_path / "manifest.json").write_text(json.dumps(
        {"metadata": {"project_name": "trading_warehouse"}, "nodes": {}, "macros": macros}))
    assert quality_gates.macro_docs(tmp_path)
