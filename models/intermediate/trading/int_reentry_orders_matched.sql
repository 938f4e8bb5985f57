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

    select * from {{ ref('int_orders_entry_typed') }}
    where entry_type = 'reentry'

),

orders as (

    select * from {{ ref('int_orders_deduplicated') }}

),

items as (

    select * from {{ ref('int_history_reentry_items_deduplicated') }}

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
        on reentry_orders.user_id = items.user_id
        and reentry_orders.base_symbol = items.base_symbol
        and (items.order_ref = reentry_orders.broker_order_ref or items.order_ref = reentry_orders.broker_order_id)

),

id_matches as (

    select order_id, history_item_id
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
        on reentry_orders.user_id = items.user_id
        and reentry_orders.base_symbol = items.base_symbol
        and items.placed_at >= {{ dbt.dateadd('minute', -var('reentry_match_minutes'), 'reentry_orders.placed_at') }}
        and items.placed_at <= {{ dbt.dateadd('minute', var('reentry_match_minutes'), 'reentry_orders.placed_at') }}
    where reentry_orders.order_id not in (select order_id from id_matches)
        and items.history_item_id not in (select history_item_id from id_matches)

),

{% for round in range(1, rounds + 1) %}
time_round_{{ round }} as (

    select order_id, history_item_id
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
        from time_candidates
        {%- if round > 1 %}
        where order_id not in (
            {%- for earlier in range(1, round) %}
            select order_id from time_round_{{ earlier }}{% if not loop.last %} union all{% endif %}
            {%- endfor %}
        )
            and history_item_id not in (
                {%- for earlier in range(1, round) %}
                select history_item_id from time_round_{{ earlier }}{% if not loop.last %} union all{% endif %}
                {%- endfor %}
            )
        {%- endif %}
    ) as ranked
    where order_choice = 1 and item_choice = 1

),

{% endfor %}
matches as (

    select order_id, history_item_id, 'order_id' as match_method from id_matches
    {%- for round in range(1, rounds + 1) %}
    union all
    select order_id, history_item_id, 'time' as match_method from time_round_{{ round }}
    {%- endfor %}

),

detailed as (

    select
        reentry_orders.order_id,
        reentry_orders.position_id,
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
