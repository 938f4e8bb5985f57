"""Compare the marts built on two engines row by row (PostgreSQL and Spark against DuckDB).

Every table is read whole, each row normalised (timestamps to UTC instants,
numbers to Decimal or float), the rows sorted, and compared in order:
identical values, except floats, which agree within FLOAT_REL_TOL relative
(FLOAT_ABS_TOL absolute near zero, where float residue of a difference is not
relative to anything).
"""
from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Any, Iterable

FLOAT_REL_TOL = 1e-9
FLOAT_ABS_TOL = 1e-9

Table = tuple[list[str], list[tuple]]  # column names, rows


def normalise(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:  # a naive value read from Parquet is UTC
            value = value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal):
        return value.normalize() if value.is_finite() else value
    return value


def sort_key(row: tuple) -> tuple:
    key = []
    for value in row:
        if value is None:
            key.append((0, ""))
        elif isinstance(value, bool):
            key.append((1, str(value)))
        elif isinstance(value, (float, Decimal)):
            number = float(value)
            key.append((2, float(f"{number:.8g}") if math.isfinite(number) else number))
        elif isinstance(value, dt.datetime):
            key.append((3, value.timestamp()))
        else:
            key.append((4, str(value)))
    return tuple(key)


def values_equal(left: Any, right: Any) -> bool:
    if left is None or right is None:
        return left is None and right is None
    if isinstance(left, bool) or isinstance(right, bool):
        return left is right or left == right
    if isinstance(left, (float, Decimal)) and isinstance(right, (float, Decimal)):
        if isinstance(left, Decimal) and isinstance(right, Decimal):
            return left == right
        a, b = float(left), float(right)
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return math.isclose(a, b, rel_tol=FLOAT_REL_TOL, abs_tol=FLOAT_ABS_TOL)
    return left == right


def prepare(rows: Iterable[tuple]) -> list[tuple]:
    normalised = [tuple(normalise(v) for v in row) for row in rows]
    return sorted(normalised, key=sort_key)


def compare_table(name: str, reference: Table, other: Table, max_examples: int = 5) -> list[str]:
    """Differences between two reads of one table, as readable lines (empty: identical)."""
    ref_columns, ref_rows = reference
    other_columns, other_rows = other
    problems: list[str] = []
    if [c.lower() for c in ref_columns] != [c.lower() for c in other_columns]:
        return [f"{name}: columns differ: {ref_columns} vs {other_columns}"]
    if len(ref_rows) != len(other_rows):
        problems.append(f"{name}: {len(ref_rows)} rows vs {len(other_rows)}")
    left, right = prepare(ref_rows), prepare(other_rows)
    for index, (a, b) in enumerate(zip(left, right)):
        bad = [col for col, x, y in zip(ref_columns, a, b) if not values_equal(x, y)]
        if bad:
            details = ", ".join(f"{col}: {x!r} vs {y!r}" for col, x, y in zip(ref_columns, a, b) if col in bad)
            problems.append(f"{name} sorted row {index}: {details}")
            if len(problems) >= max_examples:
                break
    return problems


def duckdb_tables(path: str, schema: str = "marts") -> dict[str, Table]:
    import duckdb

    con = duckdb.connect(path, read_only=True)
    try:
        con.execute("set TimeZone = 'UTC'")
        names = [r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = ? order by 1", [schema]).fetchall()]
        tables = {}
        for name in names:
            cursor = con.execute(f'select * from "{schema}"."{name}"')
            tables[name] = ([d[0] for d in cursor.description], cursor.fetchall())
        return tables
    finally:
        con.close()


def postgres_tables(conninfo: str = "", schema: str = "marts") -> dict[str, Table]:
    import psycopg

    with psycopg.connect(conninfo) as con, con.cursor() as cur:
        cur.execute("set timezone = 'UTC'")
        cur.execute("select table_name from information_schema.tables where table_schema = %s order by 1", [schema])
        names = [r[0] for r in cur.fetchall()]
        tables = {}
        for name in names:
            cur.execute(f'select * from "{schema}"."{name}"')
            tables[name] = ([d.name for d in cur.description], cur.fetchall())
        return tables


def parquet_tables(folder: str) -> dict[str, Table]:
    """Spark's Parquet tables, one folder per table, read with DuckDB (no second JVM)."""
    from pathlib import Path

    import duckdb

    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    tables = {}
    for table_dir in sorted(p for p in Path(folder).iterdir() if p.is_dir()):
        files = sorted(str(f) for f in table_dir.rglob("*.parquet"))
        if not files:
            cursor = None
            tables[table_dir.name] = ([], [])
            continue
        cursor = con.execute("select * from read_parquet(?)", [files])
        tables[table_dir.name] = ([d[0] for d in cursor.description], cursor.fetchall())
    return tables


def compare_marts(reference: dict[str, Table], other: dict[str, Table]) -> tuple[list[str], int]:
    """All differences between two sets of marts, and the number of rows compared."""
    problems: list[str] = []
    missing = sorted(set(reference) - set(other))
    extra = sorted(set(other) - set(reference))
    if missing or extra:
        problems.append(f"tables differ: missing {missing}, extra {extra}")
    rows = 0
    for name in sorted(set(reference) & set(other)):
        rows += len(reference[name][1])
        problems += compare_table(name, reference[name], other[name])
    return problems, rows
