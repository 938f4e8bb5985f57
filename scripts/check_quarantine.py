#!/usr/bin/env python3
"""After a build: name every raw file most of whose rows were quarantined (R6).

A file whose rows all land in quarantine (timestamps in a form nobody reads, a
column shifted by a bad export) loads without an error and builds without a
failing test: the rows are accounted for, but the night lost them. This check
reads ``raw.load_log`` and ``quarantine.quarantined_rows`` of a built
warehouse and prints one line per such file with its most common reason::

    check_quarantine: orders/x.csv: 480 of 500 rows quarantined (most often: unparseable placed_at (99/99/9999))

Exit codes: 0 no such file, 1 some file over the share, 2 the warehouse is not
built (no quarantine table).
"""
from __future__ import annotations

import argparse
import os
import sys

import duckdb

QUERY = """
with loads as (
    select source_name, source_file, kind, rows_loaded,
           row_number() over (partition by source_name, source_file order by loaded_at desc) as recency
    from raw.load_log
    where action in ('loaded', 'replaced')
),
latest as (
    select source_name, source_file, case kind when 'history' then 'history_trades' else kind end as source_table,
           rows_loaded
    from loads
    where recency = 1 and rows_loaded > 0
),
reasons as (
    select source_table, source_name, source_file, quarantine_reason, count(*) as rows
    from quarantine.quarantined_rows
    where source_table <> 'history_reentry_items'
    group by all
),
per_file as (
    select source_table, source_name, source_file, sum(rows) as quarantined,
           arg_max(quarantine_reason, rows) as top_reason
    from reasons
    group by all
)
select case when latest.source_name = 'exports' then latest.source_file
            else latest.source_name || ':' || latest.source_file end as source_file,
       latest.rows_loaded, per_file.quarantined, per_file.top_reason
from latest
inner join per_file
    on latest.source_name = per_file.source_name and latest.source_file = per_file.source_file
    and latest.source_table = per_file.source_table
where per_file.quarantined > ? * latest.rows_loaded
order by 1
"""


def mostly_quarantined(warehouse: str, max_share: float) -> list[tuple[str, int, int, str]]:
    con = duckdb.connect(warehouse, read_only=True)
    try:
        return [tuple(row) for row in con.execute(QUERY, [max_share]).fetchall()]
    finally:
        con.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--warehouse", default=os.environ.get("WAREHOUSE", "warehouse.duckdb"),
                        help="built DuckDB warehouse (default: $WAREHOUSE or warehouse.duckdb)")
    parser.add_argument("--max-share", type=float, default=0.5,
                        help="flag a file when more than this share of its rows is quarantined (default 0.5)")
    args = parser.parse_args(argv)
    try:
        files = mostly_quarantined(args.warehouse, args.max_share)
    except duckdb.Error as exc:
        print(f"check_quarantine: cannot read {args.warehouse}: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 2
    for source_file, loaded, quarantined, reason in files:
        print(f"check_quarantine: {source_file}: {quarantined} of {loaded} rows quarantined"
              f" (most often: {reason})", file=sys.stderr)
    if files:
        print(f"check_quarantine: {len(files)} file(s) mostly quarantined; see quarantine.quarantined_rows",
              file=sys.stderr)
    return 1 if files else 0


if __name__ == "__main__":
    sys.exit(main())
