-- Closed cycles, win rate and net P&L per month of closing (India calendar;
-- R8.7; MetricFlow twin: mf query --metrics closed_cycles,win_rate,net_realized_pnl
-- --group-by metric_time__month).
select
    {{ dbt.date_trunc('month', 'closed_date') }} as closed_month,
    count(*) as closed_cycles,
    avg(case when realized_pnl > 0 then 1.0 else 0.0 end) as win_rate,
    sum(net_realized_pnl) as net_realized_pnl
from {{ ref('fct_positions') }}
where status = 'closed'
group by {{ dbt.date_trunc('month', 'closed_date') }}
order by closed_month
