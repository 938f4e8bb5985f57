"""Write a self-contained HTML report with plots from the trading marts.

    .venv/bin/python scripts/report.py --warehouse warehouse.duckdb --out target/report.html

Nine plots, each with a title, axis labels and a one-line reading computed from
the data: reentry counts per position, reentry discount versus the opening price
by RSI level, P&L of closed positions with and without reentries, daily cap
breaches over time, the symbols with the most reentries, and the strategy
outcomes of R8: the P&L the reentries added against the opening buy alone, win
rate and profit factor by reentry count and exit reason, each user's equity
curve with its drawdown, and charges against realized P&L. Plots are PNGs
embedded as base64, so the file opens anywhere with no network. The warehouse is
opened read-only (it must have been built: `make run` or `make build`).

Exit codes: 0 written; 2 the warehouse is missing or has no marts; 1 anything else.
"""
from __future__ import annotations

import argparse
import base64
import datetime as dt
import html
import io
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import duckdb

os.environ.setdefault("MPLBACKEND", "Agg")
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

MARTS = ("fct_positions", "fct_reentries", "fct_daily_reentries", "fct_daily_pnl")
LEVEL_COLOURS = {30.0: "#4c9be8", 20.0: "#f0a04b", 10.0: "#d9534f"}
WITH_COLOUR, WITHOUT_COLOUR = "#4c9be8", "#9aa5b1"


class ReportError(Exception):
    """A problem with the input that the user can fix (exit code 2)."""


@dataclass
class Section:
    key: str
    title: str
    reading: str
    png: bytes | None  # None: no data to plot


# --- data ---------------------------------------------------------------------------------------
def connect(warehouse: Path) -> duckdb.DuckDBPyConnection:
    if not warehouse.exists():
        raise ReportError(f"{warehouse}: no such warehouse file (build it with `make run`)")
    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error as error:
        raise ReportError(f"{warehouse}: cannot open read-only ({error}); is a build still writing it?") from error
    present = {row[0] for row in con.execute(
        "select table_name from information_schema.tables where table_schema = 'marts'").fetchall()}
    missing = [mart for mart in MARTS if mart not in present]
    if missing:
        raise ReportError(f"{warehouse}: marts.{', marts.'.join(missing)} missing (run `make build` first)")
    return con


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def pct(part: float, whole: float) -> float:
    return 100.0 * part / whole if whole else 0.0


# --- plots --------------------------------------------------------------------------------------
def png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png", dpi=100)
    plt.close(figure)
    return buffer.getvalue()


def new_figure(title: str, xlabel: str, ylabel: str) -> tuple[Figure, plt.Axes]:
    figure, axes = plt.subplots(figsize=(9, 4.2))
    axes.set_title(title, fontsize=12, loc="left")
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.grid(axis="y", alpha=0.3)
    axes.spines[["top", "right"]].set_visible(False)
    return figure, axes


def reentry_count_distribution(con: duckdb.DuckDBPyConnection) -> Section:
    title = "Reentries per position cycle"
    data = rows(con, """
        select reentry_count, count(*) as positions
        from marts.fct_positions
        group by reentry_count
        order by reentry_count""")
    if not data:
        return Section("reentry_counts", title, "No position cycles in the warehouse.", None)
    total = sum(n for _, n in data)
    with_reentries = sum(n for count, n in data if count > 0)
    mode_count, mode_n = max(data, key=lambda row: (row[1], -row[0]))
    mean = sum(count * n for count, n in data) / total
    figure, axes = new_figure(title, "executed reentries in the cycle", "position cycles")
    axes.bar([str(count) for count, _ in data], [n for _, n in data],
             color=[WITHOUT_COLOUR if count == 0 else WITH_COLOUR for count, _ in data])
    for index, (_, n) in enumerate(data):
        axes.annotate(f"{n}", (index, n), ha="center", va="bottom", fontsize=8)
    reading = (f"{with_reentries:,} of {total:,} position cycles ({pct(with_reentries, total):.1f}%) had at least one "
               f"reentry; the most common count is {mode_count} ({mode_n:,} cycles), the mean {mean:.2f}, "
               f"the highest {data[-1][0]}.")
    return Section("reentry_counts", title, reading, png(figure))


def discount_by_level(con: duckdb.DuckDBPyConnection) -> Section:
    title = "Reentry fill price versus the cycle's opening price, by RSI level"
    data = rows(con, """
        select reentry_level, pct_vs_initial_price
        from marts.fct_reentries
        where reentry_level is not null and pct_vs_initial_price is not null
        order by reentry_level desc""")
    if not data:
        return Section("discount_by_level", title, "No priced reentries with a known level.", None)
    levels = sorted({level for level, _ in data}, reverse=True)
    values = [[value for level, value in data if level == wanted] for wanted in levels]
    summary = rows(con, """
        select reentry_level, count(*), median(pct_vs_initial_price), avg(pct_vs_initial_price)
        from marts.fct_reentries
        where reentry_level is not null and pct_vs_initial_price is not null
        group by reentry_level
        order by reentry_level desc""")
    figure, axes = new_figure(title, "RSI level of the reentry (deeper to the right)",
                              "fill vs opening price (%)")
    boxes = axes.boxplot(values, showfliers=False, patch_artist=True, widths=0.5)
    axes.set_xticks(range(1, len(levels) + 1), [f"below {level:g}\n(n={len(v):,})" for level, v in zip(levels, values)])
    for patch, level in zip(boxes["boxes"], levels):
        patch.set_facecolor(LEVEL_COLOURS.get(level, WITH_COLOUR))
        patch.set_alpha(0.7)
    axes.axhline(0, color="black", linewidth=0.8)
    medians = ", ".join(f"level {level:g}: {median:+.2f}% (mean {mean:+.2f}%, n={n:,})"
                        for level, n, median, mean in summary)
    reading = f"Median reentry fill against the cycle's opening price: {medians}; deeper levels buy cheaper."
    if len(summary) > 1 and summary[0][2] <= summary[-1][2]:
        reading = f"Median reentry fill against the cycle's opening price: {medians}; deeper levels do not buy cheaper here."
    return Section("discount_by_level", title, reading, png(figure))


def pnl_with_and_without(con: duckdb.DuckDBPyConnection) -> Section:
    title = "Realized P&L of closed position cycles, with and without reentries"
    data = rows(con, """
        select has_reentries, realized_pnl_pct
        from marts.fct_positions
        where status = 'closed' and realized_pnl_pct is not null""")
    if not data:
        return Section("pnl", title, "No closed position cycles with a known P&L.", None)
    groups = {flag: [value for has, value in data if has == flag] for flag in (False, True)}
    summary = {flag: rows(con, f"""
        select count(*), avg(realized_pnl_pct), median(realized_pnl_pct),
               count(*) filter (where realized_pnl_pct > 0), sum(realized_pnl)
        from marts.fct_positions
        where status = 'closed' and realized_pnl_pct is not null and has_reentries = {str(flag).lower()}""")[0]
        for flag in (False, True)}
    figure, axes = new_figure(title, "realized P&L (% of the cycle's cost)", "closed position cycles")
    bins = 40
    for flag, colour, label in ((False, WITHOUT_COLOUR, "without reentries"), (True, WITH_COLOUR, "with reentries")):
        if groups[flag]:
            axes.hist(groups[flag], bins=bins, alpha=0.6, color=colour,
                      label=f"{label} (n={len(groups[flag]):,}, mean {summary[flag][1]:+.2f}%)")
    axes.axvline(0, color="black", linewidth=0.8)
    axes.legend(frameon=False)

    def describe(flag: bool, label: str) -> str:
        n, mean, median, winners, total = summary[flag]
        if not n:
            return f"no closed cycles {label}"
        return (f"{n:,} closed cycles {label} averaged {mean:+.2f}% (median {median:+.2f}%, "
                f"{pct(winners, n):.0f}% profitable, total ₹{total:,.0f})")

    reading = f"{describe(True, 'with reentries')}; {describe(False, 'without')}."
    return Section("pnl", title, reading, png(figure))


def cap_breaches_over_time(con: duckdb.DuckDBPyConnection) -> Section:
    title = "Daily reentry cap breaches over time"
    data = rows(con, """
        select trading_date,
               count(*) filter (where is_over_cap) as breaches,
               count(*) as book_days
        from marts.fct_daily_reentries
        group by trading_date
        order by trading_date""")
    if not data:
        return Section("cap_breaches", title, "No book-days with reentries.", None)
    dates = [row[0] for row in data]
    breaches = [row[1] for row in data]
    total_breaches, total_book_days = sum(breaches), sum(row[2] for row in data)
    days_with_breach = sum(1 for value in breaches if value)
    worst_date, worst = max(((row[0], row[1]) for row in data), key=lambda item: (item[1], item[0]))
    figure, axes = new_figure(title, "trading date (India)", "book-days over the cap")
    axes.bar(dates, breaches, width=1.0, color="#d9534f", alpha=0.5, label="breaches that day")
    window = 20
    if len(breaches) >= window:
        rolling = [sum(breaches[max(0, i - window + 1): i + 1]) / len(breaches[max(0, i - window + 1): i + 1])
                   for i in range(len(breaches))]
        axes.plot(dates, rolling, color="#8b1e1b", linewidth=1.5, label=f"mean of the last {window} days with reentries")
    axes.xaxis.set_major_locator(mdates.AutoDateLocator())
    axes.xaxis.set_major_formatter(mdates.ConciseDateFormatter(axes.xaxis.get_major_locator()))
    axes.legend(frameon=False, loc="upper left")
    reading = (f"The one-reentry-a-day cap was broken on {total_breaches:,} of {total_book_days:,} book-days with "
               f"reentries ({pct(total_breaches, total_book_days):.1f}%), on {days_with_breach:,} of {len(data):,} "
               f"trading days; the worst day was {worst_date:%Y-%m-%d} with {worst} breaches.")
    return Section("cap_breaches", title, reading, png(figure))


def top_symbols(con: duckdb.DuckDBPyConnection, top: int) -> Section:
    title = "Symbols with the most executed reentries"
    data = rows(con, f"""
        select base_symbol, count(*) as reentries, count(distinct position_id) as positions
        from marts.fct_reentries
        group by base_symbol
        order by reentries desc, base_symbol
        limit {int(top)}""")
    if not data:
        return Section("top_symbols", title, "No executed reentries.", None)
    total = rows(con, "select count(*), count(distinct base_symbol) from marts.fct_reentries")[0]
    title = f"{title} (top {len(data)})"
    figure, axes = new_figure(title, "executed reentries", "symbol")
    axes.grid(axis="x", alpha=0.3)
    axes.grid(axis="y", visible=False)
    names = [row[0] for row in data][::-1]
    counts = [row[1] for row in data][::-1]
    axes.barh(names, counts, color=WITH_COLOUR)
    for index, value in enumerate(counts):
        axes.annotate(f"{value}", (value, index), va="center", ha="left", fontsize=8, xytext=(2, 0),
                      textcoords="offset points")
    leader, leader_count, leader_positions = data[0]
    top_share = pct(sum(row[1] for row in data), total[0])
    shown = (f"all {total[1]:,} symbols are shown" if len(data) == total[1] else
             f"these {len(data)} of {total[1]:,} symbols account for {top_share:.0f}% of all reentries")
    reading = (f"{leader} leads with {leader_count:,} reentries over {leader_positions:,} cycles "
               f"({pct(leader_count, total[0]):.1f}% of {total[0]:,}); {shown}.")
    return Section("top_symbols", title, reading, png(figure))


def reentry_pnl_against_opening_buy(con: duckdb.DuckDBPyConnection) -> Section:
    title = "Did averaging down pay? What the reentries added, cycle by cycle"
    data = rows(con, """
        select pnl_without_reentries, reentry_pnl
        from marts.fct_positions
        where status = 'closed' and has_reentries and reentry_pnl is not null""")
    if not data:
        return Section("reentry_pnl", title, "No closed cycles with reentries and known exit prices.", None)
    helped = sum(1 for _, added in data if added > 0)
    rescued = sum(1 for alone, added in data if alone < 0 <= alone + added)
    losing_alone = sum(1 for alone, _ in data if alone < 0)
    total_added = sum(added for _, added in data)
    figure, axes = new_figure(title, "P&L of the opening buy alone, sold at the same prices (INR)",
                              "P&L the reentries added (INR)")
    colours = [WITH_COLOUR if added > 0 else "#d9534f" for _, added in data]
    axes.scatter([alone for alone, _ in data], [added for _, added in data], s=8, alpha=0.5, c=colours)
    axes.axhline(0, color="black", linewidth=0.8)
    axes.axvline(0, color="black", linewidth=0.8)
    axes.grid(axis="x", alpha=0.3)
    reading = (f"Reentries added money in {helped:,} of {len(data):,} closed cycles with reentries "
               f"({pct(helped, len(data)):.0f}%), ₹{total_added:,.0f} in total; of the {losing_alone:,} cycles "
               f"whose opening buy alone would have lost, {rescued:,} ended at break-even or better.")
    return Section("reentry_pnl", title, reading, png(figure))


OUTCOME_SQL = """
    select {group} as grouping,
           count(*) as cycles,
           avg(case when realized_pnl > 0 then 1.0 else 0.0 end) as win_rate,
           sum(case when realized_pnl > 0 then realized_pnl else 0 end)
           / nullif(-sum(case when realized_pnl < 0 then realized_pnl else 0 end), 0) as profit_factor
    from marts.fct_positions
    where status = 'closed'
    group by grouping
    order by grouping"""
REENTRY_BUCKET = ("case when reentry_count >= 3 then '3+' when reentry_count = 2 then '2' "
                  "when reentry_count = 1 then '1' else '0' end")


def win_rate_and_profit_factor(con: duckdb.DuckDBPyConnection) -> Section:
    title = "Win rate and profit factor by reentry count and by exit reason"
    by_count = rows(con, OUTCOME_SQL.format(group=REENTRY_BUCKET))
    by_reason = rows(con, OUTCOME_SQL.format(group="coalesce(exit_reason, '(none)')"))
    if not by_count:
        return Section("win_rate", title, "No closed position cycles.", None)
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    figure.suptitle(title, fontsize=12, x=0.01, ha="left")
    for axes, data, label in ((left, by_count, "executed reentries in the cycle"), (right, by_reason, "exit reason")):
        names = [str(row[0]) for row in data]
        axes.bar(names, [row[2] * 100 for row in data], color=WITH_COLOUR, alpha=0.8)
        axes.set_xlabel(label)
        axes.set_ylim(0, 105)
        axes.spines[["top"]].set_visible(False)
        axes.tick_params(axis="x", labelrotation=20 if axes is right else 0, labelsize=8)
        for index, (_, cycles, win, factor) in enumerate(data):
            shown = "PF n/a" if factor is None else f"PF {factor:.2f}"
            axes.annotate(f"{shown}\nn={cycles:,}", (index, win * 100), ha="center", va="bottom", fontsize=7)
    left.set_ylabel("win rate (% of closed cycles with P&L > 0)")
    best = max(by_count, key=lambda row: (row[2], row[0]))
    worst = min(by_count, key=lambda row: (row[2], row[0]))
    reason = max(by_reason, key=lambda row: (row[1], str(row[0])))
    factor = "no losing cycle" if reason[3] is None else f"profit factor {reason[3]:.2f}"
    reading = (f"Cycles with {best[0]} reentries won most often ({best[2] * 100:.1f}% of {best[1]:,}), those with "
               f"{worst[0]} least ({worst[2] * 100:.1f}% of {worst[1]:,}); the most common exit, {reason[0]}, "
               f"won {reason[2] * 100:.1f}% of {reason[1]:,} cycles ({factor}). PF = gross profit / gross loss.")
    return Section("win_rate", title, reading, png(figure))


def equity_curves(con: duckdb.DuckDBPyConnection, top: int) -> Section:
    title = "Equity curve (cumulative net P&L) per user and trade mode, drawdown shaded"
    books = rows(con, f"""
        select user_id, trade_mode, count(*) as days
        from marts.fct_daily_pnl
        group by user_id, trade_mode
        order by days desc, user_id, trade_mode
        limit {int(top)}""")
    if not books:
        return Section("equity", title, "No executed orders.", None)
    total_books = rows(con, "select count(*) from (select distinct user_id, trade_mode from marts.fct_daily_pnl)")[0][0]
    figure, axes = new_figure(title if len(books) == total_books else f"{title} (the {len(books)} most active)",
                              "India date", "cumulative net P&L (INR)")
    worst = None
    for user_id, trade_mode, _ in books:
        curve = rows(con, f"""
            select trading_date, cumulative_net_pnl, drawdown
            from marts.fct_daily_pnl
            where user_id = {int(user_id)} and trade_mode = '{trade_mode}'
            order by trading_date""")
        dates = [row[0] for row in curve]
        equity = [row[1] for row in curve]
        peak = [row[1] - row[2] for row in curve]
        (line,) = axes.plot(dates, equity, linewidth=1.2, label=f"user {user_id} ({trade_mode})")
        axes.fill_between(dates, equity, peak, color=line.get_color(), alpha=0.2)
    worst = rows(con, """
        select user_id, trade_mode, drawdown, trading_date, cumulative_net_pnl - drawdown as peak
        from marts.fct_daily_pnl
        order by drawdown, trading_date, user_id
        limit 1""")[0]
    final = rows(con, """
        select count(*) filter (where final_net > 0), count(*) from (
            select arg_max(cumulative_net_pnl, trading_date) as final_net
            from marts.fct_daily_pnl group by user_id, trade_mode)""")[0]
    axes.axhline(0, color="black", linewidth=0.8)
    axes.xaxis.set_major_locator(mdates.AutoDateLocator())
    axes.xaxis.set_major_formatter(mdates.ConciseDateFormatter(axes.xaxis.get_major_locator()))
    axes.legend(frameon=False, fontsize=7, loc="upper left", ncol=2)
    reading = (f"{final[0]:,} of {final[1]:,} user books end above zero after charges; the deepest drawdown was "
               f"₹{-worst[2]:,.0f} below a peak of ₹{worst[4]:,.0f} (user {worst[0]}, {worst[1]}, "
               f"{worst[3]:%Y-%m-%d}).")
    return Section("equity", title, reading, png(figure))


def charges_against_gross(con: duckdb.DuckDBPyConnection) -> Section:
    title = "Charges against realized P&L, per month"
    data = rows(con, """
        select date_trunc('month', trading_date) as month, sum(realized_pnl) as realized, sum(charges) as charges
        from marts.fct_daily_pnl
        group by month
        order by month""")
    if not data:
        return Section("charges", title, "No executed orders.", None)
    months = [row[0] for row in data]
    figure, axes = new_figure(title, "month (India calendar)", "INR")
    axes.bar(months, [row[1] for row in data], width=20, color=WITH_COLOUR, alpha=0.7, label="realized P&L (gross)")
    axes.bar(months, [-row[2] for row in data], width=20, color="#d9534f", alpha=0.7, label="charges (shown negative)")
    axes.axhline(0, color="black", linewidth=0.8)
    axes.xaxis.set_major_locator(mdates.AutoDateLocator())
    axes.xaxis.set_major_formatter(mdates.ConciseDateFormatter(axes.xaxis.get_major_locator()))
    axes.legend(frameon=False, loc="upper left")
    realized, charges = sum(row[1] for row in data), sum(row[2] for row in data)
    share = f"{pct(charges, realized):.1f}% of it" if realized > 0 else "while the realized P&L was not positive"
    reading = (f"Charges (var charge_pct of every executed order's value) came to ₹{charges:,.0f} against "
               f"₹{realized:,.0f} of realized P&L, {share}; net ₹{realized - charges:,.0f}.")
    return Section("charges", title, reading, png(figure))


# --- HTML ---------------------------------------------------------------------------------------
CSS = """
body { font-family: 'DejaVu Sans', Arial, sans-serif; margin: 2rem auto; max-width: 980px; color: #1f2933; }
h1 { margin-bottom: .2rem; } .meta { color: #52606d; margin-top: 0; }
section { margin: 2rem 0; padding-top: .5rem; border-top: 1px solid #e4e7eb; }
h2 { font-size: 1.15rem; } img { max-width: 100%; }
p.reading { background: #f0f4f8; border-left: 4px solid #4c9be8; padding: .6rem .8rem; }
table.summary { border-collapse: collapse; } table.summary td { padding: .15rem 1rem .15rem 0; }
"""


def render(sections: Sequence[Section], figures: list[tuple[str, str]], warehouse: Path) -> str:
    generated = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>Reentry report</title>",
        f"<style>{CSS}</style></head><body>",
        "<h1>Reentry report</h1>",
        f'<p class="meta">From <code>{html.escape(str(warehouse))}</code> (schema <code>marts</code>), '
        f"generated {generated} by <code>scripts/report.py</code>.</p>",
        '<table class="summary">',
        *(f"<tr><td>{html.escape(label)}</td><td><b>{html.escape(value)}</b></td></tr>" for label, value in figures),
        "</table>",
    ]
    for section in sections:
        parts.append(f'<section id="{section.key}"><h2>{html.escape(section.title)}</h2>')
        if section.png is not None:
            encoded = base64.b64encode(section.png).decode("ascii")
            parts.append(f'<img alt="{html.escape(section.title)}" src="data:image/png;base64,{encoded}">')
        parts.append(f'<p class="reading">{html.escape(section.reading)}</p></section>')
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def headline_figures(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    positions, closed, with_reentries = rows(con, """
        select count(*), count(*) filter (where status = 'closed'), count(*) filter (where has_reentries)
        from marts.fct_positions""")[0]
    reentries = rows(con, "select count(*) from marts.fct_reentries")[0][0]
    first, last = rows(con, "select min(trading_date), max(trading_date) from marts.fct_daily_reentries")[0]
    period = f"{first:%Y-%m-%d} to {last:%Y-%m-%d}" if first else "none"
    return [
        ("position cycles", f"{positions:,} ({closed:,} closed)"),
        ("cycles with reentries", f"{with_reentries:,} ({pct(with_reentries, positions):.1f}%)"),
        ("executed reentries", f"{reentries:,}"),
        ("reentry days", period),
    ]


def build_report(warehouse: Path, out: Path, top: int) -> list[Section]:
    con = connect(warehouse)
    try:
        sections = [
            reentry_count_distribution(con),
            discount_by_level(con),
            pnl_with_and_without(con),
            cap_breaches_over_time(con),
            top_symbols(con, top),
            reentry_pnl_against_opening_buy(con),
            win_rate_and_profit_factor(con),
            equity_curves(con, top=8),
            charges_against_gross(con),
        ]
        figures = headline_figures(con)
    finally:
        con.close()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(sections, figures, warehouse), encoding="utf-8")
    return sections


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="Exit codes: 0 written, 2 warehouse missing or not built, 1 other errors.")
    parser.add_argument("--warehouse", type=Path, default=Path(os.environ.get("WAREHOUSE", "warehouse.duckdb")),
                        help="DuckDB warehouse with the marts, opened read-only (default: $WAREHOUSE or warehouse.duckdb)")
    parser.add_argument("--out", type=Path, default=Path("target/report.html"),
                        help="HTML file to write (default: target/report.html)")
    parser.add_argument("--top", type=int, default=15, help="how many symbols in the top-symbols plot (default: 15)")
    parser.add_argument("--quiet", action="store_true", help="print nothing but errors")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        sections = build_report(args.warehouse, args.out, max(1, args.top))
    except ReportError as error:
        print(f"report: {error}", file=sys.stderr)
        return 2
    if not args.quiet:
        for section in sections:
            print(f"- {section.title}: {section.reading}")
        print(f"Report: {args.out.resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
