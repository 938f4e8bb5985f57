/* depends_on: {{ ref('int_book_fingerprints') }} */
{#- R5: running average entry price and realized P&L of every event of a cycle.
    The app's average: on each executed buy a := (q0 * a + q * p) / (q0 + q),
    q0 the quantity held just before; sells leave it; a buy with unknown price
    adds quantity but leaves it; the first priced buy sets it. That is the
    linear recurrence a_k = alpha_k * a_(k-1) + beta_k with
    alpha = q0 / (q0 + q), beta = q * p / (q0 + q) (alpha = 1, beta = 0 on every
    other event), solved with prefix products as window sums:
        P_j = exp(sum(ln alpha)),  a_j = P_j * (p_first + sum(beta_i / P_i)).
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

first_priced as (

    select
        *,
        min(case when is_buy_fill and event_price is not null then event_seq end)
            over (partition by position_id) as first_priced_seq
    from events

),

factors as (

    select
        *,
        max(case when event_seq = first_priced_seq then event_price end)
            over (partition by position_id) as first_price,
        case
            when is_buy_fill and event_price is not null and event_seq > first_priced_seq
                then cast(held_before as {{ type_double() }}) / cast(held_before + filled_qty as {{ type_double() }})
            else 1.0
        end as alpha,
        case
            when is_buy_fill and event_price is not null and event_seq > first_priced_seq
                then
                    cast(filled_qty as {{ type_double() }}) * event_price
                    / cast(held_before + filled_qty as {{ type_double() }})
            else 0.0
        end as beta
    from first_priced

),

products as (

    select
        *,
        exp(sum(ln(alpha)) over (
            partition by position_id
            order by event_seq rows between unbounded preceding and current row
        )) as alpha_product
    from factors

),

averaged as (

    select
        *,
        case
            when event_seq >= first_priced_seq
                then alpha_product * (first_price + sum(beta / alpha_product) over (
                    partition by position_id
                    order by event_seq rows between unbounded preceding and current row
                ))
        end as avg_entry_price
    from products

),

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
