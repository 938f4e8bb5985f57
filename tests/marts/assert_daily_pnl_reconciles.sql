-- Reconciliation (R8.6, R8.4): per user and trade mode, the days of
-- fct_daily_pnl add up to the cycles and the orders: summed realized P&L =
-- the cycles' realized_pnl (open cycles' partial sells included), summed
-- charges = the charges of every executed order, and the last day's
-- cumulative net P&L = their difference. Catches a day lost or counted twice
-- (e.g. a fill dated by two calendars) and a charge left out of a day.
with days as (

    select * from {{ ref('fct_daily_pnl') }}

),

positions as (

    select * from {{ ref('fct_positions') }}

),

orders as (

    select * from {{ ref('fct_orders') }}

),

from_days as (

    select
        user_id,
        trade_mode,
        sum(realized_pnl) as realized_pnl,
        sum(charges) as charges,
        max(case when is_last_day then cumulative_net_pnl end) as final_cumulative_net_pnl
    from (
        select
            *,
            trading_date = max(trading_date) over (partition by user_id, trade_mode) as is_last_day
        from days
    ) as ranked
    group by user_id, trade_mode

),

from_positions as (

    select
        user_id,
        trade_mode,
        coalesce(sum(realized_pnl), 0) as realized_pnl
    from positions
    group by user_id, trade_mode

),

from_orders as (

    select
        user_id,
        trade_mode,
        sum(charges) as charges
    from orders
    where is_executed
    group by user_id, trade_mode

),

expected as (

    select
        coalesce(from_positions.user_id, from_orders.user_id) as user_id,
        coalesce(from_positions.trade_mode, from_orders.trade_mode) as trade_mode,
        coalesce(from_positions.realized_pnl, 0) as realized_pnl,
        coalesce(from_orders.charges, 0) as charges
    from from_positions
    full outer join from_orders
        on
            from_positions.user_id = from_orders.user_id
            and from_positions.trade_mode = from_orders.trade_mode

),

compared as (

    select
        expected.user_id,
        expected.trade_mode,
        expected.realized_pnl as expected_realized_pnl,
        from_days.realized_pnl as daily_realized_pnl,
        expected.charges as expected_charges,
        from_days.charges as daily_charges,
        from_days.final_cumulative_net_pnl
    from expected
    left join from_days
        on
            expected.user_id = from_days.user_id
            and expected.trade_mode = from_days.trade_mode

)

select * from compared
where
    not (abs(coalesce(daily_realized_pnl, 0) - expected_realized_pnl) <= 1e-6 * greatest(1, abs(expected_realized_pnl)))
    or not (abs(coalesce(daily_charges, 0) - expected_charges) <= 1e-6 * greatest(1, expected_charges))
    or not (
        abs(coalesce(final_cumulative_net_pnl, 0) - (expected_realized_pnl - expected_charges))
        <= 1e-6 * greatest(1, abs(expected_realized_pnl))
    )
