#!/usr/bin/env python3
"""The nightly job: load new exports, dbt build, dbt docs generate, publish.

Analysts query the *published* warehouse file. The job never writes it: it
builds in a private working copy (``<published>.build``), and only when every
step has passed does it copy the working copy beside the published file and
rename it over the published one (an atomic swap on POSIX). An analyst's open
read-only connection keeps reading the old file until it reconnects; nobody
ever sees a half-built warehouse. A failed or killed run leaves the published
file untouched; the next run notices the unfinished working copy and starts
again from the published file.

Each step is logged with its duration. Exit codes: 0 published; 1 a step
failed, or the night is partial (nothing published unless --allow-partial);
2 bad arguments or another nightly is running.

A partial night: a raw file was refused or not read by the loader, or most
rows of a file were quarantined (scripts/check_quarantine.py). The job still
builds what did load (in the working copy), but by default keeps the last
good published warehouse and names the files that stopped it;
``--allow-partial`` publishes the partial night (and still exits 1, so the
scheduler sees it). An input with no orders at all stops the job before the
build.
"""
from __future__ import annotations

import argparse
import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

PROJECT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def log(message: str) -> None:
    print(f"[nightly {time.strftime('%H:%M:%S')}] {message}", flush=True)


@contextmanager
def exclusive(lock_path: Path) -> Iterator[None]:
    with lock_path.open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SystemExit(f"nightly: another nightly run holds {lock_path}") from None
        yield


class StepFailed(Exception):
    pass


def step(name: str, command: list[str], env: dict[str, str], ok_codes: tuple[int, ...] = (0,)) -> int:
    started = time.monotonic()
    log(f"{name}: {' '.join(command)}")
    result = subprocess.run(command, cwd=PROJECT, env=env)
    seconds = time.monotonic() - started
    if result.returncode not in ok_codes:
        log(f"{name}: FAILED (exit {result.returncode}) after {seconds:.1f}s")
        raise StepFailed(name)
    log(f"{name}: ok in {seconds:.1f}s")
    return result.returncode


def copy_file(source: Path, target: Path) -> None:
    with source.open("rb") as reader, target.open("wb") as writer:
        shutil.copyfileobj(reader, writer, 16 * 1024 * 1024)
        writer.flush()
        os.fsync(writer.fileno())


def prepare_working_copy(published: Path, build: Path, state: Path) -> None:
    """Start from the published warehouse unless the working copy is the
    result of the last successful run."""
    status = json.loads(state.read_text()).get("status") if state.exists() else None
    if status == "published" and build.exists():
        return
    for leftover in (build, Path(f"{build}.wal")):
        leftover.unlink(missing_ok=True)
    if published.exists():
        log(f"restore: working copy from {published} (last run: {status or 'none'})")
        copy_file(published, build)
    else:
        log("restore: no published warehouse yet, starting empty")


def publish(build: Path, published: Path) -> None:
    import duckdb  # checkpoint so the copy carries no write-ahead log

    con = duckdb.connect(str(build))
    con.execute("checkpoint")
    con.close()
    staging = published.with_name(f".{published.name}.publishing")
    copy_file(build, staging)
    os.replace(staging, published)
    directory = os.open(published.parent, os.O_DIRECTORY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--raw-dir", default=None, type=Path,
                        help="raw folder of exports (default: $RAW_DIR or data/raw; not read when sources are given)")
    parser.add_argument("--source", action="append", default=[], metavar="[NAME=]SPEC",
                        help="a source for scripts/load_raw.py (repeatable; default: $SOURCE, space-separated):"
                             " a raw folder, sqlite:///..., postgresql://... (password from PGPASSWORD or ~/.pgpass)"
                             " or a pg_dump file; handed to the loader through its environment, never its command line")
    parser.add_argument("--history", action="append", default=[], metavar="PATH",
                        help="a trades_history.json outside any folder (repeatable; default: $HISTORY)")
    parser.add_argument("--published", default=os.environ.get("WAREHOUSE", "warehouse.duckdb"), type=Path,
                        help="the warehouse file analysts read (default: $WAREHOUSE or warehouse.duckdb)")
    parser.add_argument("--target-path", default=None, type=Path,
                        help="dbt target folder (default: target/nightly beside the project)")
    parser.add_argument("--skip-docs", action="store_true", help="do not regenerate the docs site")
    parser.add_argument("--full-refresh", action="store_true", help="rebuild every incremental model from scratch")
    parser.add_argument("--dbt-arg", action="append", default=[], help="extra argument for dbt build (repeatable)")
    parser.add_argument("--allow-partial", action="store_true",
                        help="publish even when a raw file was refused, not read or mostly quarantined")
    args = parser.parse_args(argv)
    args.raw_dir_given = args.raw_dir is not None
    if args.raw_dir is None:
        args.raw_dir = Path(os.environ.get("RAW_DIR", "data/raw"))
    sources = args.source or ([] if args.raw_dir_given else os.environ.get("SOURCE", "").split())
    histories = args.history or os.environ.get("HISTORY", "").split()

    if not sources and not args.raw_dir.is_dir():
        print(f"nightly: raw folder {args.raw_dir} does not exist", file=sys.stderr)
        return 2
    published = args.published.resolve()
    published.parent.mkdir(parents=True, exist_ok=True)
    build = published.with_name(f"{published.name}.build")
    state = published.with_name(f"{published.name}.build.json")
    target_path = (args.target_path or PROJECT / "target" / "nightly").resolve()

    env = dict(os.environ, DBT_SEND_ANONYMOUS_USAGE_STATS="false", DBT_PROFILES_DIR=str(PROJECT),
               WAREHOUSE=str(build))
    started = time.monotonic()
    with exclusive(published.with_name(f"{published.name}.nightly.lock")):
        try:
            prepare_working_copy(published, build, state)
            state.write_text(json.dumps({"status": "building", "started_at": time.time()}))
            started_at = time.time()
            load_env = dict(env, SOURCE=" ".join(sources), HISTORY=" ".join(histories))
            where = [] if sources else ["--raw-dir", str(args.raw_dir)]
            if sources:
                log(f"load: sources {' '.join(redact_urls(spec) for spec in sources)}"
                    + (f", history {' '.join(histories)}" if histories else ""))
            load_code = step("load", [str(BIN / "python"), "scripts/load_raw.py", *where,
                                      "--warehouse", str(build), "--quiet"], load_env, ok_codes=(0, 1))
            # what a replaced export or a change of code or vars needs rebuilt, dbt rebuilds by
            # itself (macros/incremental.sql): the same for `make build` and a bare `dbt build`
            dbt = [str(BIN / "dbt"), "build", "--target-path", str(target_path), *args.dbt_arg]
            step("dbt build", dbt + (["--full-refresh"] if args.full_refresh else []), env)
            check_code = step("quarantine check", [str(BIN / "python"), "scripts/check_quarantine.py",
                                                   "--warehouse", str(build)], env, ok_codes=(0, 1))
            partial = load_code != 0 or check_code != 0
            if partial and not args.allow_partial:
                stopped = ", ".join(problem_files(build, started_at, None if sources else args.raw_dir)) \
                    or "see the load step above"
                log(f"nothing published: partial night ({stopped}); {published} is unchanged;"
                    " fix the files or pass --allow-partial (make ... ALLOW_PARTIAL=1) to publish what loaded")
                return 1
            if not args.skip_docs:
                step("docs", [str(BIN / "dbt"), "docs", "generate", "--static", "--target-path", str(target_path)],
                     env)
            publish_started = time.monotonic()
            publish(build, published)
            state.write_text(json.dumps({"status": "published", "published_at": time.time()}))
            log(f"publish: {published} swapped in {time.monotonic() - publish_started:.1f}s"
                + ("; a partial night (--allow-partial)" if partial else ""))
        except StepFailed as failed:
            log(f"nothing published: step '{failed}' failed; {published} is unchanged")
            return 1
    log(f"done in {time.monotonic() - started:.1f}s" + ("; a partial night (see load and quarantine check)" if partial else ""))
    return 1 if partial else 0


def redact_urls(text: str) -> str:
    """A source spec safe to log: the password of a URL replaced by ***."""
    return re.sub(r"(://[^/@\s:]*:)[^@\s]*@", r"\1***@", text)


def problem_files(build: Path, since: float, raw_dir: Path | None) -> list[str]:
    """What made the night partial, for the log line: the files this run's load
    refused (raw.load_log), the files it did not read, the files mostly quarantined."""
    import duckdb

    sys.path.insert(0, str(PROJECT / "scripts"))
    import check_quarantine
    import load_raw

    problems = [] if raw_dir is None else \
        [f"not read {rel}" for rel, _reason in load_raw.discover(raw_dir)[1] if not load_raw.is_hidden(rel)]
    con = duckdb.connect(str(build), read_only=True)
    try:
        rows = con.execute(
            "select distinct case when source_name = 'exports' then source_file"
            " else source_name || ':' || source_file end from raw.load_log"
            " where action = 'refused' and loaded_at >= to_timestamp(?) order by 1", [since]).fetchall()
        problems = [f"refused {row[0]}" for row in rows] + problems
    except duckdb.Error:
        pass
    finally:
        con.close()
    try:
        problems += [f"mostly quarantined {row[0]}" for row in check_quarantine.mostly_quarantined(str(build), 0.5)]
    except duckdb.Error:
        pass
    return problems


if __name__ == "__main__":
    sys.exit(main())
