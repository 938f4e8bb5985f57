-- Reconciliation (R1.8, R6, R9.1): every order (source_name, id) with a usable row
-- in any source is in fct_orders exactly once, and fct_orders holds no order that
-- no source has.
with staged as (

    select distinct
        source_name,
        order_id
    from {{ ref('stg_trading_app__orders') }}
    where quarantine_reason is null

),

orders as (

    select
        source_name,
        order_id
    from {{ ref('fct_orders') }}

)

select
    coalesce(staged.source_name, orders.source_name) as source_name,
    coalesce(staged.order_id, orders.order_id) as order_id,
    case when orders.order_id is null then 'missing from fct_orders' else 'not in any source' end as problem
from staged
full outer join orders
    on
        staged.source_name = orders.source_name
        and staged.order_id = orders.order_id
where staged.order_id is null or orders.order_id is null
