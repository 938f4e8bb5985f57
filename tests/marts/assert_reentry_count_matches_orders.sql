-- Reconciliation (R3, R5): a position's reentry_count and total_reentry_qty equal
-- the executed reentry orders fct_orders gives it, and fct_reentries has one row each.
with orders as (

    select * from {{ ref('fct_orders') }}

),

positions as (

    select * from {{ ref('fct_positions') }}

),

reentries as (

    select * from {{ ref('fct_reentries') }}

),

from_orders as (

    select
        position_id,
        count(*) as reentry_orders,
        sum(filled_qty) as reentry_qty
    from orders
    where entry_type = 'reentry' and is_executed
    group by position_id

),

from_reentries as (

    select
        position_id,
        count(*) as reentry_rows,
        max(reentry_number) as max_reentry_number
    from reentries
    group by position_id

)

select
    positions.position_id,
    positions.reentry_count,
    from_orders.reentry_orders,
    from_reentries.reentry_rows,
    from_reentries.max_reentry_number
from positions
left join from_orders
    on positions.position_id = from_orders.position_id
left join from_reentries
    on positions.position_id = from_reentries.position_id
where
    positions.reentry_count <> coalesce(from_orders.reentry_orders, 0)
    or positions.total_reentry_qty <> coalesce(from_orders.reentry_qty, 0)
    or positions.reentry_count <> coalesce(from_reentries.reentry_rows, 0)
    or positions.reentry_count <> coalesce(from_reentries.max_reentry_number, 0)
