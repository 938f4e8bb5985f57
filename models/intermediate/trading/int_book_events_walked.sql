/* depends_on: {{ ref('int_book_fingerprints') }} */
{#- R2 (with the positions-table close markers of R6): the position-cycle walk.
    Per book (user, base symbol, trade mode) the events are walked in time
    order: executed orders at their fill time, unexecuted ones at placed_at,
    close markers at their time; on equal times buys, then sells, then history
    markers, then positions-table markers, then by order id, source name (R9.1)
    and marker id. A book spans sources: it is walked as one.

    The held quantity is a running sum clamped at zero (buys add, sells take at
    most what is held, a close marker sets it to 0). That recursion has a
    closed form (Lindley): within the stretch after the latest marker,
        held_after = running_sum - least(0, running_min(running_sum)),
    so the walk is a few window passes, the same on every engine. A buy
    executed while held = 0 opens a cycle; the cycle closes when held returns
    to 0 (a sell or a marker). An executed sell while held = 0 attaches to the
    latest cycle when a marker closed it less than var exit_attach_hours
    earlier, else it is an orphan exit.

    Close markers apply to the book whose trade mode is var default_trade_mode:
    a closed history trade (at exit_time), and (R6) a positions-table row with
    closed_at. A marker closes the cycle only when something is held at its
    time, so a positions-table marker counts only where no sell or history
    marker closed the cycle first (ties go to the sell and the history marker);
    a stale closed_at from an earlier cycle finds nothing held and does nothing. -#}
with orders as (

    select * from {{ ref('int_orders_deduplicated') }}
    where {{ changed_pairs_only() }}

),

trades as (

    select * from {{ ref('int_history_trades_attributed') }}
    where {{ changed_pairs_only() }}

),

positions as (

    select * from {{ ref('stg_trading_app__positions') }}
    where
        quarantine_reason is null
        and closed_at is not null
        and {{ changed_pairs_only() }}

),

order_events as (

    select
        user_id,
        base_symbol,
        trade_mode,
        source_name,
        order_id,
        cast(null as {{ dbt.type_string() }}) as marker_id,
        cast(null as {{ dbt.type_string() }}) as marker_source,
        side as event_type,
        is_manual,
        is_executed,
        filled_qty,
        fill_price as event_price,
        case when side = 'buy' then 1 else 2 end as event_rank,
        case
            when is_executed and side = 'buy' then filled_qty
            when is_executed and side = 'sell' then -filled_qty
            else 0
        end as qty_delta,
        -- R8.5: a sell's exit reason is in its metadata
        case when side = 'sell' then {{ json_text('metadata', 'exit_reason') }} end as exit_reason,
        coalesce(filled_at, placed_at) as event_at
    from orders

),

history_marker_events as (

    select
        user_id,
        base_symbol,
        '{{ var("default_trade_mode") }}' as trade_mode,
        cast(null as {{ dbt.type_string() }}) as source_name,
        cast(null as {{ dbt.type_bigint() }}) as order_id,
        history_trade_id as marker_id,
        'trade_history' as marker_source,
        'close_marker' as event_type,
        false as is_manual,
        false as is_executed,
        0 as filled_qty,
        exit_price as event_price,
        3 as event_rank,
        0 as qty_delta,
        exit_reason,
        exit_at as event_at
    from trades
    where
        user_id is not null
        and status = 'closed'
        and exit_at is not null

),

positions_marker_events as (

    select
        user_id,
        base_symbol,
        '{{ var("default_trade_mode") }}' as trade_mode,
        cast(null as {{ dbt.type_string() }}) as source_name,
        cast(null as {{ dbt.type_bigint() }}) as order_id,
        min(position_row_id) as marker_id,
        'positions_table' as marker_source,
        'close_marker' as event_type,
        false as is_manual,
        false as is_executed,
        0 as filled_qty,
        max(exit_price) as event_price,
        4 as event_rank,
        0 as qty_delta,
        max(exit_reason) as exit_reason,
        closed_at as event_at
    from positions
    group by user_id, base_symbol, closed_at

),

-- R2, R6: every order and close marker of a book, one stream
events as (

    select * from order_events
    union all
    select * from history_marker_events
    union all
    select * from positions_marker_events

),

-- R2: the walk order (time; buys, sells, history markers, positions markers; ids) and the
-- stretch after the latest close marker (a marker sets the held quantity to 0)
sequenced as (

    select
        user_id,
        base_symbol,
        trade_mode,
        source_name,
        order_id,
        marker_id,
        marker_source,
        event_type,
        is_manual,
        is_executed,
        filled_qty,
        event_price,
        qty_delta,
        exit_reason,
        event_at,
        row_number() over (
            partition by user_id, base_symbol, trade_mode
            order by event_at, event_rank, order_id, source_name, marker_id
        ) as event_seq,
        sum(case when event_type = 'close_marker' then 1 else 0 end) over (
            partition by user_id, base_symbol, trade_mode
            order by event_at, event_rank, order_id, source_name, marker_id
            rows between unbounded preceding and current row
        ) as marker_segment
    from events

),

-- R2: the held quantity after each event, the running sum clamped at zero, in its closed
-- form (Lindley): running sum within the stretch minus the lowest it went below zero
held as (

    select
        user_id,
        base_symbol,
        trade_mode,
        source_name,
        order_id,
        marker_id,
        marker_source,
        event_type,
        is_manual,
        is_executed,
        filled_qty,
        event_price,
        qty_delta,
        exit_reason,
        event_at,
        event_seq,
        running_qty - least(0, min(running_qty) over (
            partition by user_id, base_symbol, trade_mode, marker_segment
            order by event_seq rows between unbounded preceding and current row
        )) as held_after
    from (
        select
            *,
            sum(qty_delta) over (
                partition by user_id, base_symbol, trade_mode, marker_segment
                order by event_seq rows between unbounded preceding and current row
            ) as running_qty
        from sequenced
    ) as summed

),

-- R2: an executed buy while nothing is held opens a cycle
opened as (

    select
        user_id,
        base_symbol,
        trade_mode,
        source_name,
        order_id,
        marker_id,
        marker_source,
        event_type,
        is_manual,
        is_executed,
        filled_qty,
        event_price,
        qty_delta,
        exit_reason,
        event_at,
        event_seq,
        held_before,
        held_after,
        coalesce(event_type = 'buy' and is_executed and held_before = 0, false) as opens_cycle
    from (
        select
            *,
            coalesce(lag(held_after) over (
                partition by user_id, base_symbol, trade_mode
                order by event_seq
            ), 0) as held_before
        from held
    ) as with_held_before

),

-- R2: cycles numbered by their opening buys; an executed sell or a marker that brings the
-- held quantity back to 0 closes the cycle
cycles as (

    select
        user_id,
        base_symbol,
        trade_mode,
        source_name,
        order_id,
        marker_id,
        marker_source,
        event_type,
        is_manual,
        is_executed,
        filled_qty,
        event_price,
        qty_delta,
        exit_reason,
        event_at,
        event_seq,
        held_before,
        held_after,
        opens_cycle,
        cycle_counter,
        is_in_cycle,
        is_in_cycle
        and held_after = 0
        and (event_type = 'close_marker' or (event_type = 'sell' and is_executed)) as closes_cycle
    from (
        select
            *,
            cast(sum(case when opens_cycle then 1 else 0 end) over (
                partition by user_id, base_symbol, trade_mode
                order by event_seq rows between unbounded preceding and current row
            ) as {{ dbt.type_bigint() }}) as cycle_counter,
            opens_cycle or held_before > 0 as is_in_cycle
        from opened
    ) as numbered

),

-- R2: an executed sell while nothing is held attaches to the book's latest cycle when a
-- marker closed it strictly less than var exit_attach_hours before the sell's fill
attached as (

    select
        user_id,
        base_symbol,
        trade_mode,
        source_name,
        order_id,
        marker_id,
        marker_source,
        event_type,
        is_manual,
        is_executed,
        filled_qty,
        event_price,
        qty_delta,
        exit_reason,
        event_at,
        event_seq,
        held_before,
        held_after,
        opens_cycle,
        cycle_counter,
        is_in_cycle,
        closes_cycle,
        coalesce(
            event_type = 'sell'
            and is_executed
            and not is_in_cycle
            and cycle_counter > 0
            and cycle_marker_closed_at is not null
            and {{ seconds_between('cycle_marker_closed_at', 'event_at') }} < {{ var('exit_attach_hours') }} * 3600,
            false
        ) as is_attached_exit
    from (
        select
            *,
            max(case when closes_cycle and event_type = 'close_marker' then event_at end) over (
                partition by user_id, base_symbol, trade_mode, cycle_counter
            ) as cycle_marker_closed_at
        from cycles
    ) as with_marker_close

),

-- R2, R6: the event's cycle (position_id), oversold excess and the quantity a marker closed
final as (

    select
        user_id,
        base_symbol,
        trade_mode,
        event_seq,
        source_name,
        order_id,
        case when marker_source = 'trade_history' then marker_id end as history_trade_id,
        case when marker_source = 'positions_table' then marker_id end as positions_row_id,
        case
            when is_in_cycle or is_attached_exit then {{ surrogate_key(['user_id', 'base_symbol', 'trade_mode', 'cycle_counter']) }}
        end as position_id,
        case when is_in_cycle or is_attached_exit then cycle_counter end as cycle_number,
        event_type,
        marker_source,
        qty_delta,
        filled_qty,
        held_before,
        held_after,
        case
            when event_type = 'sell' and is_executed then filled_qty - (held_before - held_after)
            else 0
        end as oversold_qty,
        case when closes_cycle and event_type = 'close_marker' then held_before else 0 end as marker_closed_qty,
        event_price,
        is_manual,
        is_executed,
        opens_cycle,
        closes_cycle,
        is_in_cycle,
        is_attached_exit,
        event_type = 'sell' and is_executed and not is_in_cycle and not is_attached_exit as is_orphan_exit,
        exit_reason,
        event_at
    from attached

)

select * from final
