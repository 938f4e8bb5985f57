/* depends_on: {{ ref('int_book_fingerprints') }} */
{#- R4.3-R4.4: reentry detail of every reentry-typed order (executed or not),
    matched with the de-duplicated history items (R4.2, int_history_reentry_items_deduplicated).
    R4.3 an order's level, RSI and decision close come from its metadata, else
    (each on its own) from its matched history item: same user and base symbol,
    1. by order id (item order_id = the order's order_id or broker_order_id):
       one pass of mutual first choices;
    2. then, for what is left, by time: items within var reentry_match_minutes
       of the order's placed_at, taken greedily, nearest first (then equal
       quantity, then order id, then item id);
    3. else no item: the metadata alone.
    One item matches at most one order. The matching is macro
    greedy_mutual_best_pairs (macros/matching.sql).
    R4.4 executed reentries are numbered 1..n per cycle by fill time, then order id.
    An order is (source_name, order_id) throughout (R9.1). -#}
with typed as (

    select * from {{ ref('int_orders_entry_typed') }}
    where
        entry_type = 'reentry'
        and {{ changed_pairs_only() }}

),

orders as (

    select * from {{ ref('int_orders_deduplicated') }}

),

items as (

    select * from {{ ref('int_history_reentry_items_deduplicated') }}
    where {{ changed_pairs_only() }}

),

reentry_orders as (

    select
        typed.source_name,
        typed.order_id,
        typed.position_id,
        orders.user_id,
        orders.base_symbol,
        orders.broker_order_ref,
        orders.broker_order_id,
        orders.quantity,
        orders.filled_qty,
        typed.is_executed_reentry,
        orders.metadata_reentry_level,
        orders.metadata_reentry_rsi,
        orders.metadata_decision_close,
        orders.placed_at,
        orders.filled_at
    from typed
    inner join orders
        on
            typed.source_name = orders.source_name
            and typed.order_id = orders.order_id

),

-- R4.3 step 1 candidates: same user and base symbol, the item's order_id is the order's reference
id_candidates as (

    select
        reentry_orders.source_name,
        reentry_orders.order_id,
        items.history_item_id
    from reentry_orders
    inner join items
        on
            reentry_orders.user_id = items.user_id
            and reentry_orders.base_symbol = items.base_symbol
            and (reentry_orders.broker_order_ref = items.order_ref or reentry_orders.broker_order_id = items.order_ref)

),

-- R4.3 step 1, CTE id_matches: an order and an item that are each other's first reference candidate
{{ greedy_mutual_best_pairs(
    'id_matches', 'id_candidates', ['source_name', 'order_id'], ['history_item_id'],
    preference=['order_id', 'source_name', 'history_item_id'], rounds=1
) }},

-- R4.3 step 2 candidates: what step 1 left, same user and base symbol, within var reentry_match_minutes
time_candidates as (

    select
        reentry_orders.source_name,
        reentry_orders.order_id,
        items.history_item_id,
        abs({{ seconds_between('reentry_orders.placed_at', 'items.placed_at') }}) as distance_seconds,
        case when items.qty = reentry_orders.quantity then 0 else 1 end as is_qty_different
    from reentry_orders
    inner join items
        on
            reentry_orders.user_id = items.user_id
            and reentry_orders.base_symbol = items.base_symbol
            and items.placed_at >= {{ dbt.dateadd('minute', -var('reentry_match_minutes'), 'reentry_orders.placed_at') }}
            and items.placed_at <= {{ dbt.dateadd('minute', var('reentry_match_minutes'), 'reentry_orders.placed_at') }}
    where
        not exists (
            select 1
            from id_matches
            where
                id_matches.source_name = reentry_orders.source_name
                and id_matches.order_id = reentry_orders.order_id
        )
        and items.history_item_id not in (select id_matches.history_item_id from id_matches)

),

-- R4.3 step 2, CTE time_matches: greedy by time distance, then equal quantity, then order id, then item id
{{ greedy_mutual_best_pairs(
    'time_matches', 'time_candidates', ['source_name', 'order_id'], ['history_item_id'],
    preference=['distance_seconds', 'is_qty_different', 'order_id', 'source_name', 'history_item_id']
) }},

matches as (

    select
        id_matches.source_name,
        id_matches.order_id,
        id_matches.history_item_id,
        'order_id' as match_method
    from id_matches
    union all
    select
        time_matches.source_name,
        time_matches.order_id,
        time_matches.history_item_id,
        'time' as match_method
    from time_matches

),

-- R4.3 step 3: metadata first, field by field, else the matched item (none: metadata alone)
detailed as (

    select
        reentry_orders.source_name,
        reentry_orders.order_id,
        reentry_orders.position_id,
        reentry_orders.user_id,
        reentry_orders.base_symbol,
        matches.history_item_id,
        matches.match_method,
        reentry_orders.is_executed_reentry,
        coalesce(reentry_orders.metadata_reentry_level, items.reentry_level) as reentry_level,
        coalesce(reentry_orders.metadata_reentry_rsi, items.reentry_rsi) as reentry_rsi,
        coalesce(reentry_orders.metadata_decision_close, items.decision_close) as decision_close,
        reentry_orders.filled_at
    from reentry_orders
    left join matches
        on
            reentry_orders.source_name = matches.source_name
            and reentry_orders.order_id = matches.order_id
    left join items
        on matches.history_item_id = items.history_item_id

),

final as (

    select
        source_name,
        order_id,
        position_id,
        user_id,
        base_symbol,
        history_item_id,
        match_method,
        case
            when is_executed_reentry then row_number() over (
                partition by position_id, is_executed_reentry
                order by filled_at, order_id, source_name
            )
        end as reentry_number,
        reentry_level,
        reentry_rsi,
        decision_close
    from detailed

)

select * from final
