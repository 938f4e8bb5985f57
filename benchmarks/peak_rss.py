#!/usr/bin/env python3
"""Run a command and write its peak RSS (KB; it and the descendants it waited for) to a file.

Usage: peak_rss.py OUT_FILE COMMAND [ARGS...]; exits with the command's exit code.

benchmark.py starts every step through this small process. A child started with
vfork (subprocess's default on Linux) reports in ru_maxrss at least its
parent's high-water RSS, and the benchmark's own process runs DuckDB (the
hold-back and the night shapes: about 2.1 GB at 10M orders), so a light step
would show the benchmark's peak instead of its own. This launcher stays near
10 MB, so the figure of the command it starts is the command's.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def main() -> int:
    out, command = Path(sys.argv[1]), sys.argv[2:]
    process = subprocess.Popen(command)
    _, status, usage = os.wait4(process.pid, 0)
    out.write_text(str(usage.ru_maxrss))
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main())
