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
    R4.4 executed reentries are numbered 1..n per cycle by fill time, then order id.
    An order is (source_name, order_id) throughout (R9.1). -#}
{%- set rounds = var('reentry_match_rounds') -%}
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

id_matches as (

    select
        source_name,
        order_id,
        history_item_id
    from (
        select
            source_name,
            order_id,
            history_item_id,
            row_number() over (partition by source_name, order_id order by history_item_id) as order_choice,
            row_number() over (partition by history_item_id order by order_id, source_name) as item_choice
        from id_candidates
    ) as ranked
    where order_choice = 1 and item_choice = 1

),

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

{# Each round reads the previous one once (a linear chain: Spark's analyzer
    expands CTE references, so a round that read its predecessor twice would
    double the plan per round). All candidate pairs stay in the chain:
    is_open = 1 while neither side is taken, matched_round = the round that
    took the pair (0: not taken). #}
time_round_0 as (

    select
        source_name,
        order_id,
        history_item_id,
        distance_seconds,
        is_qty_different,
        0 as matched_round,
        1 as is_open
    from time_candidates

),

{% for round in range(1, rounds + 1) %}
time_ranked_{{ round }} as (

    select
        *,
        row_number() over (
            partition by source_name, order_id, is_open
            order by distance_seconds, is_qty_different, history_item_id
        ) as order_choice,
        row_number() over (
            partition by history_item_id, is_open
            order by distance_seconds, is_qty_different, order_id, source_name
        ) as item_choice
    from time_round_{{ round - 1 }}

),

time_paired_{{ round }} as (

    select
        *,
        case when is_open = 1 and order_choice = 1 and item_choice = 1 then 1 else 0 end as is_pair
    from time_ranked_{{ round }}

),

time_round_{{ round }} as (

    select
        source_name,
        order_id,
        history_item_id,
        distance_seconds,
        is_qty_different,
        case when is_pair = 1 then {{ round }} else matched_round end as matched_round,
        case
            when is_open = 0 or is_pair = 1 then 0
            when max(is_pair) over (partition by source_name, order_id) = 1 then 0
            when max(is_pair) over (partition by history_item_id) = 1 then 0
            else 1
        end as is_open
    from time_paired_{{ round }}

),

{% endfor %}
matches as (

    select
        id_matches.source_name,
        id_matches.order_id,
        id_matches.history_item_id,
        'order_id' as match_method
    from id_matches
    union all
    select
        time_round_{{ rounds }}.source_name,
        time_round_{{ rounds }}.order_id,
        time_round_{{ rounds }}.history_item_id,
        'time' as match_method
    from time_round_{{ rounds }}
    where time_round_{{ rounds }}.matched_round > 0

),

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
