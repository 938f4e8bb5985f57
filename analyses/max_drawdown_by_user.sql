-- Each user's and trade mode's equity curve at its end and its deepest
-- drawdown (R8.6; MetricFlow twin: mf query --metrics max_drawdown
-- --group-by daily_pnl__user_id).
select
    user_id,
    min(drawdown) as max_drawdown,
    sum(net_pnl) as net_pnl
from {{ ref('fct_daily_pnl') }}
group by user_id
order by user_id
