-- R4.3: the greedy time matching ran to the end (the rounds of macro
-- greedy_mutual_best_pairs were enough): no reentry order without an item and
-- item without an order are left that could still be paired (same user and
-- base symbol, within reentry_match_minutes). Greedy matching is maximal, so
-- this must be empty.
with typed as (

    select * from {{ ref('int_orders_entry_typed') }}
    where entry_type = 'reentry'

),

orders as (

    select * from {{ ref('int_orders_deduplicated') }}

),

matched as (

    select * from {{ ref('int_reentry_orders_matched') }}

),

items as (

    select * from {{ ref('int_history_reentry_items_deduplicated') }}

),

unmatched_orders as (

    select
        orders.source_name,
        orders.order_id,
        orders.user_id,
        orders.base_symbol,
        orders.placed_at
    from typed
    inner join orders
        on
            typed.source_name = orders.source_name
            and typed.order_id = orders.order_id
    inner join matched
        on
            typed.source_name = matched.source_name
            and typed.order_id = matched.order_id
    where matched.history_item_id is null

),

unmatched_items as (

    select items.*
    from items
    where items.history_item_id not in (
        select matched.history_item_id from matched
        where matched.history_item_id is not null
    )

)

select
    unmatched_orders.source_name,
    unmatched_orders.order_id,
    unmatched_items.history_item_id
from unmatched_orders
inner join unmatched_items
    on
        unmatched_orders.user_id = unmatched_items.user_id
        and unmatched_orders.base_symbol = unmatched_items.base_symbol
        and unmatched_items.placed_at >= {{ dbt.dateadd('minute', -var('reentry_match_minutes'), 'unmatched_orders.placed_at') }}
        and unmatched_items.placed_at <= {{ dbt.dateadd('minute', var('reentry_match_minutes'), 'unmatched_orders.placed_at') }}
