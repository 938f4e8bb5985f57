{#- The history file's reentry items against the reentry orders (R4): items with
    no order (rejected or unfilled reentries the history still lists), reentry
    orders with no item, and matched pairs with the slippage between the
    decision close and the fill. -#}
with orders as (

    select * from {{ ref('fct_orders') }}
    where entry_type = 'reentry'

),

deduplicated_items as (

    select * from {{ ref('int_history_reentry_items_deduplicated') }}

),

items as (

    select
        *,
        count(*) over (
            partition by base_symbol, placed_at, qty, reentry_level
        ) as user_copies
    from deduplicated_items

),

matched_pairs as (

    select
        items.history_item_id,
        orders.source_name,
        orders.order_id,
        case when orders.is_executed then 'matched' else 'matched_unexecuted' end as finding,
        orders.reentry_match_method as match_method,
        items.qty as item_qty,
        items.reentry_level as item_reentry_level,
        items.decision_close as item_decision_close,
        items.placed_at as item_placed_at
    from orders
    inner join items
        on orders.history_item_id = items.history_item_id

),

items_without_order as (

    select
        items.history_item_id,
        cast(null as {{ dbt.type_string() }}) as source_name,
        cast(null as {{ dbt.type_bigint() }}) as order_id,
        'item_without_order' as finding,
        cast(null as {{ dbt.type_string() }}) as match_method,
        items.qty as item_qty,
        items.reentry_level as item_reentry_level,
        items.decision_close as item_decision_close,
        items.placed_at as item_placed_at
    from items
    where items.history_item_id not in (
        select orders.history_item_id from orders
        where orders.history_item_id is not null
    )

),

orders_without_item as (

    select
        cast(null as {{ dbt.type_string() }}) as history_item_id,
        orders.source_name,
        orders.order_id,
        case when orders.is_executed then 'order_without_item' else 'unexecuted_order_without_item' end as finding,
        cast(null as {{ dbt.type_string() }}) as match_method,
        cast(null as decimal(18, 4)) as item_qty,
        cast(null as {{ type_double() }}) as item_reentry_level,
        cast(null as {{ type_double() }}) as item_decision_close,
        cast(null as {{ type_instant() }}) as item_placed_at
    from orders
    where orders.history_item_id is null

),

findings as (

    select * from matched_pairs
    union all
    select * from items_without_order
    union all
    select * from orders_without_item

),

final as (

    select
        coalesce(
            findings.history_item_id,
            {{ dbt.concat(["'order#'", 'findings.source_name', "':'", "cast(findings.order_id as " ~ dbt.type_string() ~ ")"]) }}
        ) as finding_id,
        findings.history_item_id,
        findings.source_name,
        findings.order_id,
        coalesce(orders.user_id, items.user_id) as user_id,
        orders.position_id,
        coalesce(orders.base_symbol, items.base_symbol) as base_symbol,
        orders.trade_mode,
        findings.finding,
        findings.match_method,
        items.user_copies as item_user_copies,
        findings.item_qty,
        orders.quantity as order_qty,
        orders.filled_qty as order_filled_qty,
        coalesce(orders.reentry_level, findings.item_reentry_level) as reentry_level,
        findings.item_decision_close as decision_close,
        orders.fill_price,
        (orders.fill_price - findings.item_decision_close) / nullif(findings.item_decision_close, 0) * 100 as slippage_pct,
        coalesce(items.user_copies > 1, false) as is_item_in_several_users_trades,
        {{ seconds_between('findings.item_placed_at', 'orders.placed_at') }} as placed_gap_seconds,
        findings.item_placed_at,
        orders.placed_at as order_placed_at,
        orders.filled_at as order_filled_at
    from findings
    left join orders
        on
            findings.source_name = orders.source_name
            and findings.order_id = orders.order_id
    left join items
        on findings.history_item_id = items.history_item_id

)

select * from final
{{ only_if_inputs_loaded() }}
