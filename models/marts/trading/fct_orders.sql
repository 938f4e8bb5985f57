/* depends_on: {{ ref('int_book_fingerprints') }} */
{#- One row per app order (source_name, order_id: R9.1; its newest valid
    version, R1.8) with its derived entry type (R3), position cycle (R2),
    reentry detail (R4), fills (R9.2) and charges (R8.4). R8.4 lives here and
    only here: fct_positions and fct_daily_pnl sum it. -#}
with orders as (

    select * from {{ ref('int_orders_deduplicated') }}
    where {{ changed_pairs_only() }}

),

typed as (

    select * from {{ ref('int_orders_entry_typed') }}
    where {{ changed_pairs_only() }}

),

reentries as (

    select * from {{ ref('int_reentry_orders_matched') }}
    where {{ changed_pairs_only() }}

),

final as (

    select
        orders.source_name,
        orders.order_id,
        orders.user_id,
        typed.position_id,
        typed.parent_order_id,
        typed.parent_source_name,
        orders.broker_order_ref,
        orders.broker_order_id,
        reentries.history_item_id,
        orders.symbol,
        orders.base_symbol,
        orders.trade_mode,
        orders.side,
        orders.order_type,
        orders.status,
        typed.entry_type,
        orders.recorded_entry_type,
        orders.orig_source,
        reentries.match_method as reentry_match_method,
        orders.source_kind,
        orders.source_file,
        typed.cycle_number,
        reentries.reentry_number,
        orders.quantity,
        orders.filled_qty,
        orders.fill_price,
        reentries.reentry_level,
        reentries.reentry_rsi,
        reentries.decision_close,
        typed.oversold_qty,
        orders.fill_count,
        -- R8.4: what the order cost in charges: the sum of its fills' charges where they carry any (R9.2),
        -- else var charge_pct of its traded value (an unknown price costs 0)
        case
            when orders.is_executed and orders.fills_charges > 0 then orders.fills_charges
            when orders.is_executed
                then coalesce(cast(orders.filled_qty as {{ type_double() }}) * orders.fill_price, 0) * {{ var('charge_pct') }} / 100
            else 0
        end as charges,
        orders.version_count,
        orders.is_executed,
        typed.is_executed_reentry,
        orders.is_manual,
        orders.is_executed and orders.fill_price is null as is_fill_price_unknown,
        typed.opens_cycle as is_cycle_opener,
        typed.closes_cycle as is_cycle_closer,
        typed.is_attached_exit,
        typed.is_orphan_exit,
        {{ market_date('orders.placed_at') }} as placed_date,
        orders.placed_at,
        orders.filled_at,
        orders.updated_at
    from orders
    inner join typed
        on
            orders.source_name = typed.source_name
            and orders.order_id = typed.order_id
    left join reentries
        on
            orders.source_name = reentries.source_name
            and orders.order_id = reentries.order_id

)

select * from final
