-- P&L of closed positions with and without reentries (README example query;
-- MetricFlow twin: mf query --metrics avg_realized_pnl_pct_closed
-- --group-by position__has_reentries). realized_pnl_pct is realized P&L as a %
-- of the cycle's cost (R5).
select
    has_reentries,
    count(*) as positions,
    round(avg(realized_pnl_pct), 2) as avg_pnl_pct
from {{ ref('fct_positions') }}
where status = 'closed'
group by has_reentries
