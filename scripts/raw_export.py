#!/usr/bin/env python3
"""Copy the ``raw`` schema of a loaded DuckDB file to another engine.

``load_raw.py --target postgres|spark`` loads a raw folder into a DuckDB file
exactly as for DuckDB (same parsing, same load metadata, same idempotence),
then calls this module to mirror the file's ``raw`` schema:

- PostgreSQL: every raw table is re-created in the ``raw`` schema with the
  same columns (text, bigint, timestamptz) and filled with ``COPY ... FROM
  STDIN`` in one transaction; the connection comes from the libpq environment
  (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE).
- Spark: every raw table is written to ``<dir>/<table>/data.parquet``; the dbt
  ``spark`` target's on-run-start hook (macro ``engine_setup``) creates the
  Spark tables over those folders (env DBT_SPARK_RAW_DIR).

Usage: ``raw_export.py postgres --warehouse raw.duckdb`` or
``raw_export.py spark --warehouse raw.duckdb --out target/spark/raw_parquet``.
Exit codes: 0 copied, 1 the target refused (message names the table), 2 bad arguments.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import duckdb

RAW_TABLES = ["orders", "positions", "fills", "history_trades", "history_reentry_items", "rejected_lines", "load_log"]
COPY_CHUNK = 1 << 20

PG_TYPES = {
    "VARCHAR": "text",
    "BIGINT": "bigint",
    "INTEGER": "integer",
    "DOUBLE": "double precision",
    "BOOLEAN": "boolean",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "TIMESTAMP": "timestamp",
    "DATE": "date",
}


class ExportError(Exception):
    """The target engine refused a table; the message names it."""


def raw_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str, bool]]:
    """(name, DuckDB type, nullable) of a raw table, in table order."""
    rows = con.execute(
        "select column_name, data_type, is_nullable from information_schema.columns"
        " where table_schema = 'raw' and table_name = ? order by ordinal_position",
        [table],
    ).fetchall()
    if not rows:
        raise ExportError(f"raw.{table} does not exist in the DuckDB file (run the loader first)")
    return [(name, dtype, nullable == "YES") for name, dtype, nullable in rows]


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def to_postgres(warehouse: str, conninfo: str = "", quiet: bool = False) -> dict[str, int]:
    """Mirror raw.* of the DuckDB file into PostgreSQL's raw schema; returns rows per table."""
    import psycopg  # only needed for this target

    counts: dict[str, int] = {}
    con = duckdb.connect(warehouse, read_only=True)
    try:
        con.execute("set TimeZone = 'UTC'")
        with tempfile.TemporaryDirectory(prefix="raw_export_") as tmp, psycopg.connect(conninfo) as pg:
            with pg.cursor() as cur:
                cur.execute("create schema if not exists raw")
                for table in RAW_TABLES:
                    columns = raw_columns(con, table)
                    ddl = ", ".join(
                        f"{quote(name)} {PG_TYPES.get(dtype, 'text')}{'' if nullable else ' not null'}"
                        for name, dtype, nullable in columns
                    )
                    cur.execute(f"drop table if exists raw.{quote(table)} cascade")
                    cur.execute(f"create table raw.{quote(table)} ({ddl})")
                    # DuckDB writes NULL as an empty field and an empty string as "": the same in COPY csv.
                    csv_file = Path(tmp) / f"{table}.csv"
                    con.execute(
                        f"copy raw.{quote(table)} to '{csv_file}' (format csv, header false, quote '\"',"
                        " escape '\"', timestampformat '%Y-%m-%d %H:%M:%S.%f%z')"
                    )
                    names = ", ".join(quote(name) for name, _, _ in columns)
                    try:
                        with cur.copy(f"copy raw.{quote(table)} ({names}) from stdin (format csv)") as copy, \
                                csv_file.open("rb") as handle:
                            while chunk := handle.read(COPY_CHUNK):
                                copy.write(chunk)
                    except psycopg.Error as exc:
                        raise ExportError(f"PostgreSQL refused raw.{table}: {str(exc).strip().splitlines()[0]}") from exc
                    counts[table] = con.execute(f"select count(*) from raw.{quote(table)}").fetchone()[0]
                    csv_file.unlink()
                    if not quiet:
                        print(f"raw_export: raw.{table}: {counts[table]} rows to PostgreSQL", file=sys.stderr)
            pg.commit()
    finally:
        con.close()
    return counts


def to_parquet(warehouse: str, out_dir: Path, quiet: bool = False) -> dict[str, int]:
    """Write every raw table to <out_dir>/<table>/data.parquet (replacing earlier files)."""
    counts: dict[str, int] = {}
    con = duckdb.connect(warehouse, read_only=True)
    try:
        con.execute("set TimeZone = 'UTC'")
        for table in RAW_TABLES:
            raw_columns(con, table)
            folder = out_dir / table
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            con.execute(f"copy raw.{quote(table)} to '{folder / 'data.parquet'}' (format parquet)")
            counts[table] = con.execute(f"select count(*) from raw.{quote(table)}").fetchone()[0]
            if not quiet:
                print(f"raw_export: raw.{table}: {counts[table]} rows to {folder}", file=sys.stderr)
    finally:
        con.close()
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("target", choices=["postgres", "spark"], help="where to copy the raw schema")
    parser.add_argument("--warehouse", default=os.environ.get("WAREHOUSE", "warehouse.duckdb"),
                        help="loaded DuckDB file to read raw.* from (default: $WAREHOUSE or warehouse.duckdb)")
    parser.add_argument("--out", default=os.environ.get("DBT_SPARK_RAW_DIR", "target/spark/raw_parquet"),
                        help="spark: folder for the Parquet files (default: $DBT_SPARK_RAW_DIR or target/spark/raw_parquet)")
    parser.add_argument("--quiet", action="store_true", help="only errors and the summary")
    args = parser.parse_args(argv)
    if not Path(args.warehouse).is_file():
        print(f"raw_export: DuckDB file {args.warehouse} does not exist (run load_raw.py first)", file=sys.stderr)
        return 2
    started = time.monotonic()
    try:
        if args.target == "postgres":
            counts = to_postgres(args.warehouse, quiet=args.quiet)
            where = f"PostgreSQL {os.environ.get('PGHOST', 'localhost')}:{os.environ.get('PGPORT', '5432')}"
        else:
            counts = to_parquet(args.warehouse, Path(args.out).resolve(), quiet=args.quiet)
            where = str(Path(args.out).resolve())
    except ExportError as exc:
        print(f"raw_export: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # psycopg connection errors and the like: one clear line
        print(f"raw_export: {args.target}: {type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}",
              file=sys.stderr)
        return 1
    print(f"raw_export: {len(counts)} raw tables, {sum(counts.values())} rows to {where}"
          f" in {time.monotonic() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
