-- Reconciliation (R2): every executed buy belongs to exactly one position cycle,
-- and a position's total_bought_qty is the sum of its buys' fills (no fan-out, no loss).
with orders as (

    select * from {{ ref('fct_orders') }}

),

positions as (

    select * from {{ ref('fct_positions') }}

),

buys_outside_a_position as (

    select
        source_name,
        order_id,
        position_id,
        'executed buy without a position' as problem
    from orders
    where side = 'buy' and is_executed and position_id is null

),

bought_by_position as (

    select
        position_id,
        sum(filled_qty) as bought_qty,
        count(*) as buy_count
    from orders
    where side = 'buy' and is_executed and position_id is not null
    group by position_id

),

quantity_mismatches as (

    select
        positions.initial_source_name as source_name,
        positions.initial_order_id as order_id,
        positions.position_id,
        'total_bought_qty differs from the sum of its buys' as problem
    from positions
    left join bought_by_position
        on positions.position_id = bought_by_position.position_id
    where coalesce(bought_by_position.bought_qty, 0) <> positions.total_bought_qty

)

select * from buys_outside_a_position
union all
select * from quantity_mismatches
