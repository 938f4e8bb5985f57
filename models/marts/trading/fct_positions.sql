/* depends_on: {{ ref('int_book_fingerprints') }} */
{#- One row per position cycle (R2) with its metrics (R5) and, once closed,
    its strategy outcome (R8.1-R8.5):
    - the opening buy (initial_order_id, price, qty, opened_at) is read from
      fct_orders: the order int_orders_entry_typed names the cycle's parent
      (the walk's opens_cycle); it is derived there and only there;
    - exit_vwap: what the cycle was sold at, over the quantity each sell took
      out of the holding (oversold excess excluded) and the quantity a marker
      closed at its exit price; NULL when one of those prices is unknown;
    - pnl_without_reentries: the opening buy alone, sold at exit_vwap;
      reentry_pnl = realized_pnl - pnl_without_reentries (what every other buy
      of the cycle added);
    - peak_cost_basis: the largest held quantity * running average cost after
      any event: the capital the cycle tied up;
    - charges: the sum of its orders' charges (fct_orders, R8.4), attached
      sells included; net_realized_pnl = realized_pnl - charges;
    - exit_reason: of the closing sell (metadata), history trade or positions
      row, upper-cased and trimmed.
    Every R8 column is NULL while the cycle is open. -#}
with events as (

    select * from {{ ref('int_position_events_costed') }}
    where {{ changed_pairs_only() }}

),

orders as (

    select
        position_id,
        source_name,
        order_id,
        parent_source_name,
        parent_order_id,
        filled_qty,
        fill_price,
        charges,
        filled_at
    from {{ ref('fct_orders') }}
    where
        position_id is not null
        and {{ changed_pairs_only() }}

),

-- R2: the cycle's opening buy, the one int_orders_entry_typed names parent of the cycle's orders
opening_buys as (

    select
        position_id,
        order_id as initial_order_id,
        source_name as initial_source_name,
        filled_qty as initial_qty,
        fill_price as initial_entry_price,
        filled_at as opened_at
    from orders
    where
        source_name = parent_source_name
        and order_id = parent_order_id

),

order_charges as (

    select
        position_id,
        sum(charges) as charges
    from orders
    group by position_id

),

reentries as (

    select * from {{ ref('int_reentry_orders_matched') }}
    where
        reentry_number is not null
        and {{ changed_pairs_only() }}

),

executed_reentries as (

    select
        events.position_id,
        events.source_name,
        events.order_id,
        events.filled_qty,
        events.event_price,
        events.event_at,
        reentries.reentry_number,
        reentries.reentry_level
    from events
    inner join reentries
        on
            events.source_name = reentries.source_name
            and events.order_id = reentries.order_id

),

reentry_stats as (

    select
        position_id,
        count(*) as reentry_count,
        sum(filled_qty) as total_reentry_qty,
        sum(case when event_price is not null then filled_qty * event_price end)
        / nullif(sum(case when event_price is not null then filled_qty end), 0) as avg_reentry_price,
        max(reentry_number) as last_reentry_number,
        min(reentry_level) as max_level_reached
    from executed_reentries
    group by position_id

),

last_priced_reentry as (

    select
        position_id,
        event_price as last_reentry_price
    from (
        select
            position_id,
            event_price,
            row_number() over (partition by position_id order by reentry_number desc) as recency
        from executed_reentries
        where event_price is not null
    ) as ranked
    where recency = 1

),

cycle_totals as (

    select
        position_id,
        min(user_id) as user_id,
        min(base_symbol) as base_symbol,
        min(trade_mode) as trade_mode,
        min(cycle_number) as cycle_number,
        sum(case when is_buy_fill then filled_qty else 0 end) as total_bought_qty,
        sum(sold_qty) as total_sold_qty,
        sum(marker_closed_qty) as marker_closed_qty,
        max(case when is_last_event then held_after end) as held_qty,
        max(case when is_last_event then avg_entry_price end) as avg_entry_price,
        sum(realized_pnl) as realized_pnl,
        max(case when closes_cycle then coalesce(marker_source, event_type) end) as closing_source,
        max(case when closes_cycle then nullif(upper(trim(exit_reason)), '') end) as exit_reason,
        sum(sold_qty + marker_closed_qty) as exit_qty,
        sum(case when sold_qty + marker_closed_qty > 0 then (sold_qty + marker_closed_qty) * event_price end) as exit_value,
        sum(case when sold_qty + marker_closed_qty > 0 and event_price is null then 1 else 0 end) as unpriced_exits,
        max(held_after * avg_entry_price) as peak_cost_basis,
        max(case when closes_cycle then event_at end) as closed_at
    from events
    group by position_id

),

cycles as (

    select
        cycle_totals.*,
        opening_buys.initial_order_id,
        opening_buys.initial_source_name,
        opening_buys.initial_entry_price,
        opening_buys.initial_qty,
        opening_buys.opened_at,
        case
            when cycle_totals.closed_at is not null and cycle_totals.unpriced_exits = 0
                then cycle_totals.exit_value / nullif(cycle_totals.exit_qty, 0)
        end as exit_vwap,
        case when cycle_totals.closed_at is not null then coalesce(order_charges.charges, 0) end as charges
    from cycle_totals
    left join opening_buys
        on cycle_totals.position_id = opening_buys.position_id
    left join order_charges
        on cycle_totals.position_id = order_charges.position_id

),

final as (

    select
        cycles.position_id,
        cycles.user_id,
        cycles.initial_order_id,
        cycles.initial_source_name,
        cycles.base_symbol,
        cycles.trade_mode,
        case when cycles.closed_at is not null then 'closed' else 'open' end as status,
        cycles.closing_source as close_source,
        cycles.cycle_number,
        cycles.initial_entry_price,
        cycles.initial_qty,
        coalesce(reentry_stats.reentry_count, 0) as reentry_count,
        coalesce(reentry_stats.total_reentry_qty, 0) as total_reentry_qty,
        reentry_stats.avg_reentry_price,
        last_priced_reentry.last_reentry_price,
        (reentry_stats.avg_reentry_price - cycles.initial_entry_price) / cycles.initial_entry_price * 100 as reentry_discount_pct,
        cycles.avg_entry_price,
        cycles.total_bought_qty,
        cycles.total_sold_qty,
        cycles.marker_closed_qty,
        cycles.held_qty,
        cycles.realized_pnl,
        cycles.realized_pnl / nullif(cycles.avg_entry_price * cycles.total_bought_qty, 0) * 100 as realized_pnl_pct,
        {{ days_between(market_date('cycles.opened_at'), market_date('cycles.closed_at')) }} as holding_days,
        reentry_stats.max_level_reached,
        cycles.exit_vwap,
        (cycles.exit_vwap - cycles.initial_entry_price) * cycles.initial_qty as pnl_without_reentries,
        cycles.realized_pnl - (cycles.exit_vwap - cycles.initial_entry_price) * cycles.initial_qty as reentry_pnl,
        case when cycles.closed_at is not null then cycles.peak_cost_basis end as peak_cost_basis,
        case
            when cycles.closed_at is not null
                then cycles.realized_pnl / nullif(cycles.peak_cost_basis, 0) * 100
        end as return_on_peak_capital_pct,
        cycles.charges,
        cycles.realized_pnl - cycles.charges as net_realized_pnl,
        case when cycles.closed_at is not null then cycles.exit_reason end as exit_reason,
        coalesce(reentry_stats.reentry_count, 0) > 0 as has_reentries,
        {{ market_date('cycles.opened_at') }} as opened_date,
        {{ market_date('cycles.closed_at') }} as closed_date,
        cycles.opened_at,
        cycles.closed_at
    from cycles
    left join reentry_stats
        on cycles.position_id = reentry_stats.position_id
    left join last_priced_reentry
        on cycles.position_id = last_priced_reentry.position_id

)

select * from final
