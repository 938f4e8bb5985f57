{#- R8.6: one row per (user, trade mode, India date) with any executed order
    or marker close. realized_pnl: R5's realized P&L of each sell (by the India
    date of its fill time) and of each closing marker (by the India date of the
    marker's time); charges: R8.4's charges of every executed order (fct_orders)
    by the India date of its fill time; net_pnl = realized_pnl - charges. The
    cumulative realized and net P&L of the user and trade mode run up to and
    including the day; drawdown = cumulative net - its running maximum, the
    maximum counted from 0 before the first day, so drawdown <= 0. A full table:
    one late fill moves every later day's cumulative figures. -#}
with events as (

    select * from {{ ref('int_position_events_costed') }}
    where
        (event_type = 'sell' and is_executed)
        or (event_type = 'close_marker' and closes_cycle)

),

orders as (

    select * from {{ ref('fct_orders') }}
    where is_executed

),

realized_by_day as (

    select
        user_id,
        trade_mode,
        {{ market_date('event_at') }} as trading_date,
        coalesce(sum(realized_pnl), 0) as realized_pnl,
        cast(0 as {{ type_double() }}) as charges
    from events
    group by user_id, trade_mode, {{ market_date('event_at') }}

),

charges_by_day as (

    select
        user_id,
        trade_mode,
        {{ market_date('filled_at') }} as trading_date,
        cast(0 as {{ type_double() }}) as realized_pnl,
        sum(charges) as charges
    from orders
    group by user_id, trade_mode, {{ market_date('filled_at') }}

),

daily as (

    select
        user_id,
        trade_mode,
        trading_date,
        sum(realized_pnl) as realized_pnl,
        sum(charges) as charges,
        sum(realized_pnl) - sum(charges) as net_pnl
    from (
        select * from realized_by_day
        union all
        select * from charges_by_day
    ) as parts
    group by user_id, trade_mode, trading_date

),

cumulative as (

    select
        *,
        sum(realized_pnl) over (
            partition by user_id, trade_mode
            order by trading_date rows between unbounded preceding and current row
        ) as cumulative_realized_pnl,
        sum(net_pnl) over (
            partition by user_id, trade_mode
            order by trading_date rows between unbounded preceding and current row
        ) as cumulative_net_pnl
    from daily

),

final as (

    select
        {{ surrogate_key(['user_id', 'trade_mode', 'trading_date']) }} as daily_pnl_id,
        user_id,
        trade_mode,
        realized_pnl,
        charges,
        net_pnl,
        cumulative_realized_pnl,
        cumulative_net_pnl,
        cumulative_net_pnl - greatest(cast(0 as {{ type_double() }}), max(cumulative_net_pnl) over (
            partition by user_id, trade_mode
            order by trading_date rows between unbounded preceding and current row
        )) as drawdown,
        trading_date
    from cumulative

)

select * from final
{{ only_if_inputs_loaded() }}
