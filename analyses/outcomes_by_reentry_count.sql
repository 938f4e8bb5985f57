-- Did averaging down pay? Outcomes of closed cycles by number of reentries
-- (R8.7; MetricFlow twin: mf query --metrics closed_cycles,win_rate,profit_factor,
-- gross_profit,gross_loss,total_reentry_pnl,avg_holding_days,net_realized_pnl
-- --group-by position__reentry_count_bucket).
with closed as (

    select
        *,
        case
            when reentry_count >= 3 then '3+'
            when reentry_count = 2 then '2'
            when reentry_count = 1 then '1'
            else '0'
        end as reentry_count_bucket
    from {{ ref('fct_positions') }}
    where status = 'closed'

)

select
    reentry_count_bucket,
    count(*) as closed_cycles,
    avg(case when realized_pnl > 0 then 1.0 else 0.0 end) as win_rate,
    sum(case when realized_pnl > 0 then realized_pnl else 0 end) as gross_profit,
    -sum(case when realized_pnl < 0 then realized_pnl else 0 end) as gross_loss,
    sum(case when realized_pnl > 0 then realized_pnl else 0 end)
    / nullif(-sum(case when realized_pnl < 0 then realized_pnl else 0 end), 0) as profit_factor,
    sum(coalesce(reentry_pnl, 0)) as total_reentry_pnl,
    avg(holding_days) as avg_holding_days,
    sum(net_realized_pnl) as net_realized_pnl
from closed
group by reentry_count_bucket
order by reentry_count_bucket
