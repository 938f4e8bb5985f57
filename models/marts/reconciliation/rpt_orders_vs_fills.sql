{#- R9.2 reconciliation: orders whose own execution columns disagree with their
    fills (the app's fills table): execution_qty against the fills' summed
    quantity, execution_price against their VWAP, each by more than 1e-6
    relative. The order's own columns win in fct_orders; this lists where they
    and the fills tell different stories. -#}
with orders as (

    select * from {{ ref('int_orders_deduplicated') }}
    where fill_count > 0

),

compared as (

    select
        source_name,
        order_id,
        user_id,
        base_symbol,
        trade_mode,
        side,
        status,
        fill_count,
        execution_qty,
        fills_qty,
        execution_price,
        fills_vwap,
        coalesce(
            execution_qty > 0
            and abs(execution_qty - fills_qty) > 0.000001 * greatest(abs(execution_qty), abs(fills_qty)),
            false
        ) as is_qty_different,
        coalesce(
            execution_price > 0
            and abs(execution_price - fills_vwap) > 0.000001 * greatest(abs(execution_price), abs(fills_vwap)),
            false
        ) as is_price_different,
        placed_at
    from orders

),

final as (

    select
        {{ surrogate_key(['source_name', 'order_id']) }} as order_fill_check_id,
        source_name,
        order_id,
        user_id,
        base_symbol,
        trade_mode,
        side,
        status,
        fill_count,
        execution_qty,
        fills_qty,
        {{ as_quantity('execution_qty - fills_qty') }} as qty_difference,
        execution_price,
        fills_vwap,
        (execution_price - fills_vwap) / fills_vwap * 100 as price_difference_pct,
        is_qty_different,
        is_price_different,
        placed_at
    from compared
    where is_qty_different or is_price_different

)

select * from final
{{ only_if_inputs_loaded() }}
