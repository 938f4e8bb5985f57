-- History reentry items against the executed reentry orders (README example
-- query; reconciliation report rpt_history_vs_orders, R4): unmatched items,
-- unmatched orders, and the slippage of matched pairs.
select
    finding,
    is_item_in_several_users_trades,
    count(*) as findings,
    round(avg(slippage_pct), 3) as avg_slippage_pct
from {{ ref('rpt_history_vs_orders') }}
group by all
order by all
