-- Reconciliation (R1.8, R6): every order id with a usable row in any export is
-- in fct_orders exactly once, and fct_orders holds no id that no export has.
with staged as (

    select distinct order_id
    from {{ ref('stg_trading_app__orders') }}
    where quarantine_reason is null

),

orders as (

    select order_id from {{ ref('fct_orders') }}

)

select
    coalesce(staged.order_id, orders.order_id) as order_id,
    case when orders.order_id is null then 'missing from fct_orders' else 'not in any export' end as problem
from staged
full outer join orders
    on staged.order_id = orders.order_id
where staged.order_id is null or orders.order_id is null
