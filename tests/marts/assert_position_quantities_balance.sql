-- Reconciliation (R2, R5): per position, bought - sold (oversold excess excluded)
-- - quantity closed by a history marker = held_qty; an open position holds
-- shares, a closed one holds none; and the sold quantity agrees with fct_orders.
with orders as (

    select * from {{ ref('fct_orders') }}

),

positions as (

    select * from {{ ref('fct_positions') }}

),

sold_by_position as (

    select
        position_id,
        sum(filled_qty - oversold_qty) as sold_qty
    from orders
    where side = 'sell' and is_executed and position_id is not null
    group by position_id

)

select
    positions.position_id,
    positions.status,
    positions.total_bought_qty,
    positions.total_sold_qty,
    positions.marker_closed_qty,
    positions.held_qty,
    sold_by_position.sold_qty as sold_qty_from_orders
from positions
left join sold_by_position
    on positions.position_id = sold_by_position.position_id
where
    positions.total_bought_qty - positions.total_sold_qty - positions.marker_closed_qty <> positions.held_qty
    or coalesce(sold_by_position.sold_qty, 0) <> positions.total_sold_qty
    or positions.held_qty < 0
    or (positions.status = 'open' and positions.held_qty <= 0)
    or (positions.status = 'closed' and positions.held_qty <> 0)
