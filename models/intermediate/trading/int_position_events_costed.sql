/* depends_on: {{ ref('int_book_fingerprints') }} */
{#- R5: running average entry price and realized P&L of every event of a cycle.
    The app's average: on each executed buy a := (q0 * a + q * p) / (q0 + q),
    q0 the quantity held just before; sells leave it; a buy with unknown price
    adds quantity but leaves it; the first priced buy sets it. Macro
    running_average_cost (macros/costing.sql) computes it with window sums
    (its comment and macros/_macros.yml give the maths).
    Realized P&L: on a sell, (sell price - a) * quantity sold out of the
    holding (the oversold excess excluded); on a closing marker,
    (the trade's exit_price - a) * the quantity still held. -#}
with walked as (

    select * from {{ ref('int_book_events_walked') }}
    where
        is_in_cycle
        and {{ changed_pairs_only() }}

),

typed as (

    select
        source_name,
        order_id,
        entry_type
    from {{ ref('int_orders_entry_typed') }}
    where {{ changed_pairs_only() }}

),

events as (

    select
        walked.*,
        typed.entry_type,
        walked.event_type = 'buy' and walked.is_executed as is_buy_fill
    from walked
    left join typed
        on
            walked.source_name = typed.source_name
            and walked.order_id = typed.order_id

),

-- R5: the app's running average entry price after each event of the cycle
{{ running_average_cost(
    'averaged', 'events', partition_by='position_id', order_by='event_seq', is_buy='is_buy_fill',
    held_before='held_before', quantity='filled_qty', price='event_price'
) }},

-- R5: quantity sold out of the holding and realized P&L of each event
final as (

    select
        position_id,
        event_seq,
        source_name,
        order_id,
        history_trade_id,
        positions_row_id,
        marker_source,
        user_id,
        base_symbol,
        trade_mode,
        cycle_number,
        event_type,
        entry_type,
        filled_qty,
        held_before,
        held_after,
        oversold_qty,
        marker_closed_qty,
        case
            when event_type = 'sell' and is_executed then filled_qty - oversold_qty
            else 0
        end as sold_qty,
        event_price,
        avg_entry_price,
        case
            when event_type = 'sell' and is_executed
                then (event_price - avg_entry_price) * cast(filled_qty - oversold_qty as {{ type_double() }})
            when closes_cycle and event_type = 'close_marker'
                then (event_price - avg_entry_price) * cast(marker_closed_qty as {{ type_double() }})
            else 0
        end as realized_pnl,
        is_executed,
        is_buy_fill,
        opens_cycle,
        closes_cycle,
        event_seq = max(event_seq) over (partition by position_id) as is_last_event,
        exit_reason,
        event_at
    from averaged

)

select * from final
