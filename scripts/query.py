#!/usr/bin/env python3
"""SQL console on the warehouse, read-only: `make query` (interactive) or
`make query SQL="select ..."` (one result printed as a table).

The warehouse is opened with ``read_only=True``: a write statement is refused by
DuckDB itself, and the console never blocks the nightly job, which builds a
private copy and renames it over the published file (an open console keeps
reading the file it opened; `.reconnect` opens the newest one). A file being
written in place by another process (``make run`` on the same file) holds
DuckDB's write lock: the console says so in one line and exits 2.

Interactive: a statement ends with ``;`` and may span lines; readline editing,
history (``--history``) and tab completion of table names and dot commands.
Dot commands: ``.tables [schema]``, ``.schema <table>`` (columns, types, descriptions), ``.maxrows <n>``,
``.reconnect``, ``.help``, ``.quit``.

Exit codes: 0 ok; 1 the SQL failed (one line on stderr); 2 the warehouse cannot
be opened (missing, locked by a writer, not a DuckDB file) or bad arguments.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import sys
import threading
from pathlib import Path

import duckdb

PROMPT = "warehouse> "
CONTINUATION = "       ...> "
DOT_COMMANDS = (".tables", ".schema", ".maxrows", ".reconnect", ".help", ".quit", ".exit")
HELP = """\
Statements end with ';' and may span several lines. The warehouse is read-only.
  .tables [schema]   tables and views, of every schema or of one
  .schema <table>    columns, types and descriptions, e.g. .schema marts.fct_orders
  .maxrows <n>       rows shown per result (the first and last ones beyond it; default 40)
  .reconnect         reopen the warehouse (after a nightly publish, to see the new night)
  .help              this text
  .quit              leave (or Ctrl-D)"""
LOCK = re.compile(r"Conflicting lock is held in (?P<program>.*?) \(PID (?P<pid>\d+)\)")


class CannotOpen(Exception):
    """The warehouse cannot be opened read-only; the message is one line for the user."""


def first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def connect(warehouse: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection with the session settings of profiles.yml (display time zone, memory limit)."""
    if not warehouse.is_file():
        raise CannotOpen(f"{warehouse} does not exist: build it with `make run`, or pass WAREHOUSE=<file>")
    try:
        con = duckdb.connect(str(warehouse), read_only=True,
                             config={"memory_limit": os.environ.get("DUCKDB_MEMORY_LIMIT", "3GB")})
    except duckdb.IOException as error:
        lock = LOCK.search(str(error))
        if lock:
            raise CannotOpen(
                f"{warehouse} is being written by another process (PID {lock['pid']}, e.g. `make run`);"
                " try again when it finishes, or query the published nightly file") from None
        raise CannotOpen(f"cannot open {warehouse}: {first_line(error)}") from None
    except duckdb.Error as error:
        raise CannotOpen(f"cannot open {warehouse}: {first_line(error)}") from None
    try:
        con.execute("set TimeZone = 'Asia/Kolkata'")  # as profiles.yml: instants shown in market time
    except duckdb.Error:
        pass  # ICU missing: instants are shown in UTC, nothing else changes
    return con


def is_complete(text: str) -> bool:
    """True when `text` ends with a `;` outside quotes and comments (only blanks or comments after it)."""
    ended = False
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char in "'\"":
            close = text.find(char, i + 1)
            while close != -1 and close + 1 < n and text[close + 1] == char:  # doubled quote inside
                close = text.find(char, close + 2)
            if close == -1:
                return False  # an open string: the statement goes on
            i, ended = close + 1, False
        elif text.startswith("--", i):
            newline = text.find("\n", i)
            i = n if newline == -1 else newline + 1
        elif text.startswith("/*", i):
            close = text.find("*/", i + 2)
            if close == -1:
                return False
            i = close + 2
        else:
            if char == ";":
                ended = True
            elif not char.isspace():
                ended = False
            i += 1
    return ended


class InterruptWatcher:
    """Ctrl-C stops the running query, whenever it comes.

    DuckDB 2.0's client can take a SIGINT that arrives while it still prepares a query
    without stopping the query (the query then runs to its end; seen on a loaded machine).
    Python's C signal handler writes every signal to a wakeup pipe at once, whatever the
    main thread is doing; this thread reads it and calls `interrupt()` on the connection
    while a statement runs (DuckDB's way to stop a query from another thread). The main
    thread still gets its KeyboardInterrupt or DuckDB's interrupt error as before."""

    def __init__(self, console: "Console") -> None:
        self.console = console
        self.running = threading.Event()
        self.read_end, self.write_end = os.pipe()
        os.set_blocking(self.write_end, False)
        signal.set_wakeup_fd(self.write_end, warn_on_full_buffer=False)
        self.thread = threading.Thread(target=self.watch, name="interrupt-watcher", daemon=True)
        self.thread.start()

    def watch(self) -> None:
        while data := os.read(self.read_end, 64):
            if signal.SIGINT in data and self.running.is_set() and self.console.con is not None:
                try:
                    self.console.con.interrupt()
                except duckdb.Error:
                    pass  # the statement ended meanwhile

    def stop(self) -> None:
        signal.set_wakeup_fd(-1)
        os.close(self.write_end)  # the thread's read returns b'' and it ends
        self.thread.join(5)
        os.close(self.read_end)


class Console:
    def __init__(self, warehouse: Path, max_rows: int) -> None:
        self.warehouse = warehouse
        self.max_rows = max_rows
        self.con: duckdb.DuckDBPyConnection | None = connect(warehouse)
        self.watcher: InterruptWatcher | None = None

    def reconnect(self) -> None:
        # Close first: while a connection to a path is open, DuckDB hands a new one the same
        # database instance, which still reads the file it opened before the nightly's rename.
        if self.con is not None:
            self.con.close()
            self.con = None
        self.con = connect(self.warehouse)

    def width(self) -> int:
        return shutil.get_terminal_size((120, 40)).columns

    def run(self, sql: str) -> bool:
        """Run every statement of `sql`, printing each result as a table; False (and one line
        on stderr) at the first error."""
        if self.con is None:
            print("error: not connected (.reconnect to open the warehouse again)", file=sys.stderr, flush=True)
            return False
        try:
            statements = self.con.extract_statements(sql)
        except duckdb.Error as error:
            print(f"error: {first_line(error)}", file=sys.stderr, flush=True)
            return False
        for statement in statements:
            if self.watcher is not None:
                self.watcher.running.set()
            try:
                relation = self.con.sql(statement.query)
                if relation is not None:
                    relation.show(max_width=self.width(), max_rows=self.max_rows)
            except (KeyboardInterrupt, duckdb.InterruptException):
                self.con.interrupt()
                print("interrupted", file=sys.stderr, flush=True)
                return False
            except (duckdb.Error, RuntimeError) as error:  # Ctrl-C inside DuckDB: RuntimeError "Query interrupted"
                print("interrupted" if "interrupted" in str(error).lower() else f"error: {first_line(error)}",
                      file=sys.stderr, flush=True)
                return False
            finally:
                if self.watcher is not None:
                    self.watcher.running.clear()
            sys.stdout.flush()
        return True

    def names(self) -> list[str]:
        if self.con is None:
            return []
        try:
            rows = self.con.execute(
                "select table_schema, table_name from information_schema.tables"
                " where table_catalog = current_database() order by all").fetchall()
        except duckdb.Error:
            return []
        return [f"{schema}.{table}" for schema, table in rows]

    def schema(self, name: str) -> None:
        """Columns, types and descriptions (dbt's persist_docs comments) of `name` ([schema.]table)."""
        if self.con is None:
            self.run("")  # says: not connected
            return
        schema, _, table = name.rpartition(".")
        try:
            schemas = [row[0] for row in self.con.execute(
                "select distinct schema_name from duckdb_columns() where database_name = current_database()"
                " and table_name = $table and ($schema = '' or schema_name = $schema) order by all",
                {"table": table, "schema": schema}).fetchall()]
            if not schemas:
                print(f"error: no table or view {name} (.tables lists them)", file=sys.stderr)
                return
            if len(schemas) > 1:
                print(f"error: {table} is in schemas {', '.join(schemas)}: name one, e.g. .schema {schemas[0]}.{table}",
                      file=sys.stderr)
                return
            self.con.sql(
                "select column_name as column, data_type as type, replace(comment, chr(10), ' ') as description"
                " from duckdb_columns() where database_name = current_database()"
                " and schema_name = $schema and table_name = $table order by column_index",
                params={"schema": schemas[0], "table": table}).show(max_width=self.width(), max_rows=10_000)
        except duckdb.Error as error:
            print(f"error: {first_line(error)}", file=sys.stderr)

    def dot(self, line: str) -> bool:
        """Run a dot command; False means leave."""
        command, _, argument = line.strip().partition(" ")
        argument = argument.strip().rstrip(";").strip()
        if command in (".quit", ".exit"):
            return False
        if command == ".help":
            print(HELP)
        elif command == ".tables":
            schema = argument.replace("'", "''")
            where = f"table_schema = '{schema}'" if schema else "table_schema not in ('information_schema', 'pg_catalog')"
            self.run("select table_schema as schema, table_name as name, lower(table_type) as type"
                     f" from information_schema.tables where table_catalog = current_database() and {where}"
                     " order by all;")
        elif command == ".schema":
            if not argument:
                print("error: .schema needs a table, e.g. .schema marts.fct_orders", file=sys.stderr)
            else:
                self.schema(argument)
        elif command == ".maxrows":
            if argument.isdigit() and int(argument) > 0:
                self.max_rows = int(argument)
            else:
                print(f"error: .maxrows needs a positive number (now {self.max_rows})", file=sys.stderr)
        elif command == ".reconnect":
            try:
                self.reconnect()
                print(f"reopened {self.warehouse}")
            except CannotOpen as error:
                print(f"error: {error}", file=sys.stderr)
        else:
            print(f"error: unknown command {command} (.help lists them)", file=sys.stderr)
        return True

    def interactive(self, history: Path | None) -> int:
        self.watcher = InterruptWatcher(self)
        try:
            return self.session(history)
        finally:
            self.watcher.stop()
            self.watcher = None

    def session(self, history: Path | None) -> int:
        readline = enable_readline(history, self)
        print(f"{self.warehouse} (read-only). Statements end with ';'. .help for commands, .quit to leave.")
        buffer: list[str] = []
        while True:
            try:
                line = input(CONTINUATION if buffer else PROMPT)
            except EOFError:
                print()
                break
            except KeyboardInterrupt:
                print("^C")
                buffer = []
                continue
            if not buffer and line.strip().startswith("."):
                if not self.dot(line):
                    break
                continue
            if not buffer and not line.strip():
                continue
            buffer.append(line)
            text = "\n".join(buffer)
            if is_complete(text):
                buffer = []
                if readline is not None and len(text.splitlines()) > 1:
                    # one history entry for the whole statement, not one per line
                    for _ in range(len(text.splitlines())):
                        readline.remove_history_item(readline.get_current_history_length() - 1)
                    readline.add_history(" ".join(part.strip() for part in text.splitlines()))
                try:
                    self.run(text)
                except KeyboardInterrupt:  # between DuckDB's calls, e.g. while printing
                    print("interrupted", file=sys.stderr, flush=True)
        if readline is not None and history is not None:
            try:
                history.parent.mkdir(parents=True, exist_ok=True)
                readline.write_history_file(history)
            except OSError:
                pass
        return 0


def enable_readline(history: Path | None, console: Console):
    try:
        import readline
    except ImportError:
        return None
    if history is not None and history.is_file():
        try:
            readline.read_history_file(history)
        except OSError:
            pass
    readline.set_history_length(2000)
    words = [*DOT_COMMANDS, *console.names()]

    def complete(text: str, state: int) -> str | None:
        matches = [word for word in words if word.startswith(text)]
        return matches[state] if state < len(matches) else None

    readline.set_completer_delims(" \t\n;(),=")
    readline.set_completer(complete)
    readline.parse_and_bind("tab: complete")
    return readline


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--warehouse", default=os.environ.get("WAREHOUSE", "warehouse.duckdb"), type=Path,
                        help="the DuckDB file (default: $WAREHOUSE or warehouse.duckdb)")
    parser.add_argument("--sql", help="run these statements, print the result as a table and exit")
    parser.add_argument("--max-rows", type=int, default=40,
                        help="rows shown per result; beyond it the first and last ones (default 40)")
    parser.add_argument("--history", type=Path,
                        default=Path(os.environ.get("XDG_STATE_HOME", Path.home() / ".local" / "state"))
                        / "trading_warehouse" / "query_history",
                        help="readline history file of the interactive console")
    args = parser.parse_args(argv)
    if args.max_rows < 1:
        parser.error("--max-rows must be at least 1")
    try:
        console = Console(args.warehouse, args.max_rows)
    except CannotOpen as error:
        print(f"query: {error}", file=sys.stderr)
        return 2
    try:
        if args.sql is not None:
            if not args.sql.strip():
                print("query: SQL is empty", file=sys.stderr)
                return 2
            return 0 if console.run(args.sql) else 1
        status = console.interactive(args.history)
    finally:
        if args.sql is not None and console.con is not None:
            console.con.close()
    # Leave at once: the connection is read-only, so there is nothing to flush but our own
    # output; the history file is already written. (The ".quit hangs" once blamed on DuckDB
    # was tmux losing the exit's SIGCHLD: see Terminal.exit_status in tests/python/test_query.py.)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


if __name__ == "__main__":
    sys.exit(main())
