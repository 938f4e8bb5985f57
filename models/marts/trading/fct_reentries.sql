/* depends_on: {{ ref('int_book_fingerprints') }} */
{#- One row per executed reentry order (R3 typed, R4 detail), against its
    cycle's initial price and against the decision close it was placed at. -#}
with orders as (

    select * from {{ ref('fct_orders') }}
    where
        is_executed_reentry
        and {{ changed_pairs_only() }}

),

positions as (

    select * from {{ ref('fct_positions') }}
    where {{ changed_pairs_only() }}

),

final as (

    select
        orders.source_name,
        orders.order_id,
        orders.position_id,
        orders.parent_order_id,
        orders.parent_source_name,
        orders.user_id,
        orders.history_item_id,
        orders.base_symbol,
        orders.trade_mode,
        orders.reentry_match_method,
        orders.cycle_number,
        orders.reentry_number,
        orders.reentry_level,
        orders.reentry_rsi,
        orders.filled_qty,
        orders.fill_price,
        positions.initial_entry_price,
        (orders.fill_price - positions.initial_entry_price) / positions.initial_entry_price * 100 as pct_vs_initial_price,
        orders.decision_close,
        (orders.fill_price - orders.decision_close) / orders.decision_close * 100 as slippage_vs_decision_pct,
        {{ days_between('positions.opened_date', 'orders.placed_date') }} as days_since_opened,
        orders.placed_date,
        orders.placed_at,
        orders.filled_at,
        positions.opened_at as position_opened_at
    from orders
    inner join positions
        on orders.position_id = positions.position_id

)

select * from final
