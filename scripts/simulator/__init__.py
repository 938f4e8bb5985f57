"""The seeded simulator of the auto-trading app (``scripts/generate_sample_data.py``).

Modules, each with one job:

- ``rules``: the rule parameters it needs, read from ``dbt_project.yml`` vars;
- ``market``: trading days, the India wall clock, each symbol's RSI / price path;
- ``strategy``: the app's buying, reentries and exits, and the simulation state;
- ``quirks``: how often each odd case happens and how the app's rows look;
- ``writers``: order / positions exports, history files, truth files;
- ``simulation``: the world and the day-by-day loop that ties them together;
- ``cli``: the command line.
"""
