{{ config(
    materialized=pair_incremental_materialization(),
    incremental_strategy='delete+insert',
    unique_key=['user_id', 'base_symbol'],
    on_schema_change='fail'
) }}
/* depends_on: {{ ref('int_book_fingerprints') }} */
{#- R4.3-R4.4: reentry detail of every reentry-typed order (executed or not),
    matched with the de-duplicated history items (R4.2, int_history_reentry_items_deduplicated).
    R4.3 an order's level, RSI and decision close come from its metadata, else
    (each on its own) from its matched history item: same user and base symbol,
    first by order id (item order_id = the order's order_id or broker_order_id),
    then by time: the item whose time is nearest the order's placed_at within
    var reentry_match_minutes. One item matches at most one order. Pairs are
    taken greedily by (time distance, quantity differs, order id, item id);
    greedy over a strict total order equals repeatedly taking the pairs that are
    each other's first choice, done here in var reentry_match_rounds rounds.
    R4.4 executed reentries are numbered 1..n per cycle by fill time, then order id. -#}
{%- set rounds = var('reentry_match_rounds') -%}
with typed as (

    select * from {{ ref('int_orders_entry_typed') }} as typed
    where
        typed.entry_type = 'reentry'
        and {{ changed_pairs_only('typed') }}

),

orders as (

    select * from {{ ref('int_orders_deduplicated') }}

),

items as (

    select * from {{ ref('int_history_reentry_items_deduplicated') }} as items
    where {{ changed_pairs_only('items') }}

),

reentry_orders as (

    select
        typed.order_id,
        typed.position_id,
        orders.user_id,
        orders.base_symbol,
        orders.broker_order_ref,
        orders.broker_order_id,
        orders.quantity,
        orders.filled_qty,
        orders.is_executed,
        orders.metadata_reentry_level,
        orders.metadata_reentry_rsi,
        orders.metadata_decision_close,
        orders.placed_at,
        orders.filled_at
    from typed
    inner join orders
        on typed.order_id = orders.order_id

),

id_candidates as (

    select
        reentry_orders.order_id,
        items.history_item_id
    from reentry_orders
    inner join items
        on
            reentry_orders.user_id = items.user_id
            and reentry_orders.base_symbol = items.base_symbol
            and (reentry_orders.broker_order_ref = items.order_ref or reentry_orders.broker_order_id = items.order_ref)

),

id_matches as (

    select
        order_id,
        history_item_id
    from (
        select
            order_id,
            history_item_id,
            row_number() over (partition by order_id order by history_item_id) as order_choice,
            row_number() over (partition by history_item_id order by order_id) as item_choice
        from id_candidates
    ) as ranked
    where order_choice = 1 and item_choice = 1

),

time_candidates as (

    select
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
        reentry_orders.order_id not in (select id_matches.order_id from id_matches)
        and items.history_item_id not in (select id_matches.history_item_id from id_matches)

),

time_remaining_1 as (

    select * from time_candidates

),

{% for round in range(1, rounds + 1) %}
time_round_{{ round }} as (

    select
        ranked.order_id,
        ranked.history_item_id
    from (
        select
            order_id,
            history_item_id,
            row_number() over (
                partition by order_id
                order by distance_seconds, is_qty_different, history_item_id
            ) as order_choice,
            row_number() over (
                partition by history_item_id
                order by distance_seconds, is_qty_different, order_id
            ) as item_choice
        from time_remaining_{{ round }}
    ) as ranked
    where ranked.order_choice = 1 and ranked.item_choice = 1

),

time_remaining_{{ round + 1 }} as (

    select remaining.*
    from time_remaining_{{ round }} as remaining
    where
        remaining.order_id not in (select taken.order_id from time_round_{{ round }} as taken)
        and remaining.history_item_id not in (select taken.history_item_id from time_round_{{ round }} as taken)

),

{% endfor %}
matches as (

    select
        id_matches.order_id,
        id_matches.history_item_id,
        'order_id' as match_method
    from id_matches
    {%- for round in range(1, rounds + 1) %}
    union all
    select
        time_round_{{ round }}.order_id,
        time_round_{{ round }}.history_item_id,
        'time' as match_method
    from time_round_{{ round }}
    {%- endfor %}

),

detailed as (

    select
        reentry_orders.order_id,
        reentry_orders.position_id,
        reentry_orders.user_id,
        reentry_orders.base_symbol,
        matches.history_item_id,
        matches.match_method,
        reentry_orders.is_executed,
        coalesce(reentry_orders.metadata_reentry_level, items.reentry_level) as reentry_level,
        coalesce(reentry_orders.metadata_reentry_rsi, items.reentry_rsi) as reentry_rsi,
        coalesce(reentry_orders.metadata_decision_close, items.decision_close) as decision_close,
        reentry_orders.filled_at
    from reentry_orders
    left join matches
        on reentry_orders.order_id = matches.order_id
    left join items
        on matches.history_item_id = items.history_item_id

),

final as (

    select
        order_id,
        position_id,
        user_id,
        base_symbol,
        history_item_id,
        match_method,
        case
            when is_executed then row_number() over (
                partition by position_id, is_executed
                order by filled_at, order_id
            )
        end as reentry_number,
        reentry_level,
        reentry_rsi,
        decision_close
    from detailed

)

select * from final
