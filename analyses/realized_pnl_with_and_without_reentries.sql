-- Realized P&L (INR) of all cycles, open ones included (their partial sells),
-- with and without reentries (R5). MetricFlow twin: mf query --metrics
-- realized_pnl --group-by position__has_reentries, or the metrics
-- realized_pnl_with_reentries and realized_pnl_without_reentries.
select
    has_reentries,
    count(*) as positions,
    round(sum(realized_pnl), 2) as realized_pnl,
    round(avg(realized_pnl), 2) as avg_realized_pnl_per_position
from {{ ref('fct_positions') }}
group by has_reentries
order by has_reentries
