{#- R4.1: which user a history trade belongs to; the first answer wins:
    1. the file sits under user_<id>/;
    2. the trade's order_id / buy_order_id equals an order's order_id or
       broker_order_id (exactly one user among those orders);
    3. the users with an executed buy of the same base symbol filled within
       var trade_match_minutes of entry_time: one candidate wins; among several,
       those whose buy's filled quantity equals the trade's initial quantity
       (qty minus its reentry items' qty), if exactly one is left.
    Unattributed trades stay (user_id NULL) and are used for nothing user-specific. -#}
with trades as (

    select * from {{ ref('stg_trading_app__history_trades') }}
    where quarantine_reason is null

),

items as (

    select * from {{ ref('stg_trading_app__history_reentry_items') }}

),

orders as (

    select * from {{ ref('int_orders_deduplicated') }}

),

item_qty as (

    select
        history_trade_id,
        sum(qty) as reentry_qty
    from items
    group by history_trade_id

),

order_refs as (

    select
        user_id,
        broker_order_ref as order_ref
    from orders
    where broker_order_ref is not null
    union all
    select
        user_id,
        broker_order_id as order_ref
    from orders
    where broker_order_id is not null

),

trade_refs as (

    select
        history_trade_id,
        order_ref
    from trades
    where order_ref is not null
    union all
    select
        history_trade_id,
        buy_order_ref as order_ref
    from trades
    where buy_order_ref is not null

),

by_order_ref as (

    select
        trade_refs.history_trade_id,
        min(order_refs.user_id) as user_id
    from trade_refs
    inner join order_refs
        on trade_refs.order_ref = order_refs.order_ref
    group by trade_refs.history_trade_id
    having count(distinct order_refs.user_id) = 1

),

trades_with_initial_qty as (

    select
        trades.*,
        trades.qty - coalesce(item_qty.reentry_qty, 0) as initial_qty
    from trades
    left join item_qty
        on trades.history_trade_id = item_qty.history_trade_id

),

time_candidates as (

    select
        trades.history_trade_id,
        orders.user_id,
        orders.filled_qty = trades.initial_qty as is_qty_equal
    from trades_with_initial_qty as trades
    inner join orders
        on
            trades.base_symbol = orders.base_symbol
            and orders.side = 'buy'
            and orders.is_executed
            and orders.filled_at >= {{ dbt.dateadd('minute', -var('trade_match_minutes'), 'trades.entry_at') }}
            and orders.filled_at <= {{ dbt.dateadd('minute', var('trade_match_minutes'), 'trades.entry_at') }}
    where trades.file_user_id is null

),

by_time as (

    select
        history_trade_id,
        case
            when count(distinct user_id) = 1 then min(user_id)
            when count(distinct case when is_qty_equal then user_id end) = 1
                then min(case when is_qty_equal then user_id end)
        end as user_id,
        case
            when count(distinct user_id) = 1 then 'time_match'
            when count(distinct case when is_qty_equal then user_id end) = 1 then 'time_and_qty_match'
        end as attribution_method
    from time_candidates
    group by history_trade_id

),

final as (

    select
        trades.history_trade_id,
        coalesce(trades.file_user_id, by_order_ref.user_id, by_time.user_id) as user_id,
        trades.base_symbol,
        trades.symbol,
        trades.status,
        trades.order_ref,
        trades.buy_order_ref,
        trades.exit_reason,
        case
            when trades.file_user_id is not null then 'user_file'
            when by_order_ref.user_id is not null then 'order_id'
            else by_time.attribution_method
        end as attribution_method,
        trades.qty,
        trades.initial_qty,
        trades.entry_price,
        trades.exit_price,
        trades.entry_at,
        trades.exit_at,
        trades.source_file,
        trades.source_row,
        {{ fingerprint_hash('trades.raw_content') }} as content_fingerprint
    from trades_with_initial_qty as trades
    left join by_order_ref
        on trades.history_trade_id = by_order_ref.history_trade_id
    left join by_time
        on trades.history_trade_id = by_time.history_trade_id

)

select * from final
{{ only_if_inputs_loaded() }}
