"""`make query`, used in a terminal as an analyst would: the console runs in a detached
tmux session of fixed size, the test types into it (send-keys) and reads the screen
(capture-pane), and compares the tables shown with what DuckDB returns for the same SQL.

The warehouse is published by `scripts/nightly.py` from 300 simulated orders (one export
held back for a second night), so the last test can run a nightly while a console is open.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import duckdb
import pytest

from conftest import PROJECT, project_env, python

WIDTH, HEIGHT = 120, 50
PROMPT = "warehouse> "
BY_ENTRY_TYPE = ("select entry_type, count(*) as orders, count(distinct user_id) as users "
                 "from marts.fct_orders group by entry_type order by entry_type")


def fetch(warehouse: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def as_shown(rows: list[tuple]) -> list[list[str]]:
    return [[str(value) for value in row] for row in rows]


def nightly(site: dict[str, Path]) -> subprocess.CompletedProcess[str]:
    published = site["published"]
    return python("nightly.py", "--raw-dir", str(site["raw"]), "--published", str(published),
                  "--target-path", str(published.parent / "dbt_target"), "--skip-docs")


@pytest.fixture(scope="module")
def site() -> dict[str, Path]:
    root = PROJECT / "target" / "query_test"
    shutil.rmtree(root, ignore_errors=True)
    raw = root / "raw"
    python("generate_sample_data.py", "--out", str(raw), "--truth", str(root / "truth"),
           "--seed", "11", "--orders", "300", "--quiet")
    exports = sorted((raw / "orders").iterdir())
    held_back = root / "held_back"
    held_back.mkdir()
    shutil.move(str(exports[-1]), held_back / exports[-1].name)  # the second night's export
    site = {"root": root, "raw": raw, "held_back": held_back,
            "published": root / "published" / "warehouse.duckdb"}
    assert "publish:" in nightly(site).stdout
    return site


class Terminal:
    """One tmux server of its own (its own socket), one session of WIDTH x HEIGHT. The pane
    stays after its program ends (remain-on-exit), so the exit status can be read."""

    def __init__(self, tmp_path: Path) -> None:
        self.socket = f"pytest-query-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.config = tmp_path / "tmux.conf"
        self.config.write_text("set -g remain-on-exit on\nset -g history-limit 20000\n")
        self.home = tmp_path / "home"  # the console's readline history goes here
        self.home.mkdir(exist_ok=True)

    def tmux(self, *args: str) -> str:
        result = subprocess.run(["tmux", "-L", self.socket, "-f", str(self.config), *args],
                                capture_output=True, text=True, timeout=30, env=project_env())
        assert result.returncode == 0, f"tmux {' '.join(args)}: {result.stderr}"
        return result.stdout

    def start(self, command: str) -> None:
        env = project_env(HOME=str(self.home), TERM="xterm-256color")
        variables = [arg for name in ("HOME", "TERM", "PATH", "DBT_SEND_ANONYMOUS_USAGE_STATS", "DBT_PROFILES_DIR")
                     for arg in ("-e", f"{name}={env[name]}")]
        self.tmux("new-session", "-d", "-s", "main", "-x", str(WIDTH), "-y", str(HEIGHT), "-c", str(PROJECT),
                  *variables, command)

    def type(self, line: str) -> None:
        """Type `line` and press Enter. tmux reads a trailing ';' as its command separator: escaped."""
        self.tmux("send-keys", "-t", "main", "-l", line[:-1] + "\\;" if line.endswith(";") else line)
        self.tmux("send-keys", "-t", "main", "Enter")

    def screen(self) -> str:
        """Everything the pane has shown (scrollback included), wrapped lines joined."""
        return self.tmux("capture-pane", "-p", "-J", "-t", "main", "-S", "-20000")

    def wait_for(self, text: str, after: str = "", timeout: float = 60) -> str:
        """The screen once `text` is shown after the last occurrence of `after`."""
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            tail = screen[screen.rfind(after):] if after else screen
            if after in screen and text in tail:
                return tail
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} not shown within {timeout}s; screen:\n{screen[-4000:]}")
            time.sleep(0.2)

    def exit_status(self, timeout: float = 30) -> int:
        """The exit status of the pane's program, once it has ended (its pty closed, reaped by tmux).

        tmux 3.3a (Debian's, linked with libutempter) runs the `utempter` helper when a pane's
        pty closes, with SIGCHLD set to SIG_DFL around its blocking wait: a SIGCHLD for the
        program that comes in that window is discarded, and tmux never reaps it (a zombie, the
        pane dead without a status). Seen on a loaded machine as "the console does not exit on
        .quit". So once the pane is dead, its server is sent a SIGCHLD of our own: tmux's handler
        reaps every ended child and records its status; a program that has not ended is not
        reported (`pane_dead` stays 0) and the test fails."""
        deadline = time.monotonic() + timeout
        server = int(self.tmux("display-message", "-p", "#{pid}").strip())
        while time.monotonic() < deadline:
            state = self.tmux("display-message", "-p", "-t", "main", "#{pane_dead} #{pane_dead_status}").split()
            if len(state) == 2 and state[0] == "1":  # the status can lag the dead flag by a moment
                return int(state[1])
            if state == ["1"]:
                os.kill(server, signal.SIGCHLD)
            time.sleep(0.2)
        raise AssertionError(f"the console did not exit; screen:\n{self.screen()[-3000:]}")

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)


@pytest.fixture
def terminal(tmp_path: Path):
    term = Terminal(tmp_path)
    yield term
    term.close()


def first_table(text: str) -> tuple[list[str], list[list[str]]]:
    """Header and data rows of the first DuckDB box table in `text`."""
    lines = text.splitlines()
    top = next(i for i, line in enumerate(lines) if line.startswith("┌"))
    bottom = next(i for i in range(top, len(lines)) if lines[i].startswith("└"))
    rows = [[cell.strip() for cell in line.strip().strip("│").split("│")]
            for line in lines[top + 1:bottom] if line.startswith("│")]
    return rows[0], rows[2:]  # rows[1] is the types line


def query_in_console(terminal: Terminal, sql_lines: list[str]) -> tuple[list[str], list[list[str]]]:
    for line in sql_lines:
        terminal.type(line)
    shown = terminal.wait_for("└", after=sql_lines[-1])
    return first_table(shown)


def test_console_session_in_a_terminal(site: dict[str, Path], terminal: Terminal) -> None:
    published = site["published"]
    expected = as_shown(fetch(published, BY_ENTRY_TYPE))
    assert len(expected) >= 3
    terminal.start(f"make --no-print-directory query WAREHOUSE={published}")
    terminal.wait_for(PROMPT)

    # A statement over three lines runs once its ';' is typed.
    header, rows = query_in_console(terminal, [
        "select entry_type, count(*) as orders, count(distinct user_id) as users",
        "from marts.fct_orders",
        "group by entry_type order by entry_type;",
    ])
    assert header == ["entry_type", "orders", "users"]
    assert rows == expected

    # The console holds a read-only connection: another reader opens the file beside it ...
    assert fetch(published, "select count(*) from marts.fct_orders")[0][0] == sum(int(row[1]) for row in expected)
    # ... and a write is refused in one line, and the session goes on.
    terminal.type("create table marts.console_write as select 1 as x;")
    refused = terminal.wait_for(PROMPT, after="create table marts.console_write")
    errors = [line for line in refused.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "read-only" in errors[0], refused
    assert fetch(published, "select count(*) from duckdb_tables() where table_name = 'console_write'") == [(0,)]

    terminal.type(".tables marts")
    header, rows = first_table(terminal.wait_for("└", after=".tables marts"))
    marts = {row[1] for row in rows}
    assert {"fct_orders", "fct_positions", "fct_reentries", "fct_daily_reentries"} <= marts

    terminal.type(".schema marts.fct_orders")
    header, rows = first_table(terminal.wait_for("└", after=".schema marts.fct_orders"))
    assert header == ["column", "type", "description"]
    columns = [name for (name,) in fetch(published, "select column_name from duckdb_columns() where "
                                                    "schema_name = 'marts' and table_name = 'fct_orders' "
                                                    "order by column_index")]
    assert [row[0] for row in rows if row[0]] == columns  # a wrapped description leaves the first cell empty

    terminal.type(".quit")
    assert terminal.exit_status() == 0
    history = (terminal.home / ".local" / "state" / "trading_warehouse" / "query_history").read_text()
    assert "select entry_type, count(*) as orders, count(distinct user_id) as users from marts.fct_orders" in history


def test_ctrl_c_stops_a_long_query_and_the_session_goes_on(site: dict[str, Path], terminal: Terminal) -> None:
    terminal.start(f"{sys.executable} scripts/query.py --warehouse {site['published']}")
    terminal.wait_for(PROMPT)
    terminal.type("select count(*) from range(1000000000000) as long_query;")
    time.sleep(1.5)
    terminal.tmux("send-keys", "-t", "main", "C-c")
    after = terminal.wait_for(PROMPT, after="long_query;", timeout=20)
    assert "interrupted" in after and "Traceback" not in after, after
    assert query_in_console(terminal, ["select 42 as answer;"])[1] == [["42"]]
    terminal.type(".quit")
    assert terminal.exit_status() == 0


def test_one_shot_query_typed_in_a_shell(site: dict[str, Path], terminal: Terminal) -> None:
    published = site["published"]
    (count,) = fetch(published, "select count(*) from marts.fct_orders")[0]
    terminal.start("env PS1='$ ' bash --norc --noprofile")
    terminal.wait_for("$ ")
    terminal.type(f'make query WAREHOUSE={published} SQL="select count(*) as orders from marts.fct_orders"'
                  '; echo "exit status $?"')
    shown = terminal.wait_for("\nexit status", after="make query")  # the output, not the typed command
    header, rows = first_table(shown)
    assert header == ["orders"]
    assert rows == [[str(count)]]
    assert "exit status 0" in shown


def one_shot(warehouse: Path, sql: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["make", "--no-print-directory", "query", f"WAREHOUSE={warehouse}", f"SQL={sql}"],
                          cwd=PROJECT, env=project_env(), capture_output=True, text=True, timeout=120)


def own_lines(stderr: str) -> list[str]:
    """stderr without make's own `make: *** [...] Error N` line."""
    return [line for line in stderr.splitlines() if not line.startswith("make: ***")]


@pytest.mark.parametrize(("sql", "message"), [
    ("selec count(*) from marts.fct_orders", "error: Parser Error: syntax error at or near \"selec\""),
    ("select count(*) from marts.no_such_mart", "error: Catalog Error: Table with name no_such_mart does not exist"),
    ("create table marts.one_shot_write as select 1", "read-only mode"),
])
def test_one_shot_bad_sql_prints_one_line_and_fails(site: dict[str, Path], sql: str, message: str) -> None:
    result = one_shot(site["published"], sql)
    assert result.returncode != 0
    assert result.stdout == ""
    lines = own_lines(result.stderr)
    assert len(lines) == 1 and message in lines[0], result.stderr


def test_one_shot_missing_or_locked_warehouse_prints_one_line_and_fails(site: dict[str, Path],
                                                                        tmp_path: Path) -> None:
    missing = tmp_path / "missing.duckdb"
    result = one_shot(missing, "select 1")
    assert result.returncode != 0
    assert own_lines(result.stderr) == [
        f"query: {missing} does not exist: build it with `make run`, or pass WAREHOUSE=<file>"]

    # A file written in place (as `make run` does) holds DuckDB's write lock.
    copy = tmp_path / "being_built.duckdb"
    shutil.copy(site["published"], copy)
    writer = subprocess.Popen([sys.executable, "-c", "import duckdb, sys; con = duckdb.connect(sys.argv[1]); "
                               "print('open', flush=True); sys.stdin.readline()", str(copy)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "open"
        result = one_shot(copy, "select 1")
    finally:
        writer.kill()
        writer.wait()
    lines = own_lines(result.stderr)
    assert result.returncode != 0
    assert len(lines) == 1 and f"query: {copy} is being written by another process (PID {writer.pid}" in lines[0], \
        result.stderr
    assert "Traceback" not in result.stderr


def test_console_open_through_a_nightly_run(site: dict[str, Path], terminal: Terminal) -> None:
    published = site["published"]
    count = "select count(*) as orders from marts.fct_orders;"
    (before,) = fetch(published, count)[0]
    terminal.start(f"make --no-print-directory query WAREHOUSE={published}")
    terminal.wait_for(PROMPT)
    assert query_in_console(terminal, [count])[1] == [[str(before)]]

    for export in site["held_back"].iterdir():
        shutil.copy2(export, site["raw"] / "orders" / export.name)
    run = nightly(site)  # fails the test if the nightly exits non-zero
    assert "publish:" in run.stdout
    (after,) = fetch(published, count)[0]
    assert after > before

    # The open console still reads the file it opened; .reconnect opens the new night.
    terminal.type("select count(*) as orders_still from marts.fct_orders;")
    assert first_table(terminal.wait_for("└", after="orders_still from"))[1] == [[str(before)]]
    terminal.type(".reconnect")
    terminal.wait_for(f"reopened {published}", after=".reconnect")
    terminal.type("select count(*) as orders_now from marts.fct_orders;")
    assert first_table(terminal.wait_for("└", after="orders_now from"))[1] == [[str(after)]]
    terminal.type(".quit")
    assert terminal.exit_status() == 0
