-- Outcomes of closed cycles by exit reason (R8.5, R8.7; MetricFlow twin:
-- mf query --metrics closed_cycles,win_rate,profit_factor,gross_profit,gross_loss,
-- total_reentry_pnl,avg_holding_days --group-by position__exit_reason).
select
    exit_reason,
    count(*) as closed_cycles,
    avg(case when realized_pnl > 0 then 1.0 else 0.0 end) as win_rate,
    sum(case when realized_pnl > 0 then realized_pnl else 0 end) as gross_profit,
    -sum(case when realized_pnl < 0 then realized_pnl else 0 end) as gross_loss,
    sum(case when realized_pnl > 0 then realized_pnl else 0 end)
    / nullif(-sum(case when realized_pnl < 0 then realized_pnl else 0 end), 0) as profit_factor,
    sum(coalesce(reentry_pnl, 0)) as total_reentry_pnl,
    avg(holding_days) as avg_holding_days
from {{ ref('fct_positions') }}
where status = 'closed'
group by exit_reason
order by exit_reason
