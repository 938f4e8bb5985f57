{#- The app's positions table against the derived cycles (R2, R5, R6): one row
    per positions-table row of each source (R9.1; its newest version: later
    export, later row),
    matched to the derived cycle of its book whose opening is nearest its
    opened_at (within a day), with a reason for every difference. -#}
with position_rows as (

    select * from {{ ref('stg_trading_app__positions') }}
    where quarantine_reason is null

),

positions as (

    select * from {{ ref('fct_positions') }}

),

orders as (

    select * from {{ ref('fct_orders') }}

),

latest_rows as (

    select *
    from (
        select
            *,
            row_number() over (
                partition by source_name, app_position_id
                order by source_file desc, source_row desc
            ) as version_rank
        from position_rows
    ) as ranked
    where version_rank = 1

),

manual_qty as (

    select
        position_id,
        sum(filled_qty) as manual_qty
    from orders
    where entry_type = 'manual' and is_executed
    group by position_id

),

candidates as (

    select
        latest_rows.position_row_id,
        positions.position_id,
        row_number() over (
            partition by latest_rows.position_row_id
            order by abs({{ seconds_between('latest_rows.opened_at', 'positions.opened_at') }}), positions.cycle_number
        ) as nearness
    from latest_rows
    inner join positions
        on
            latest_rows.user_id = positions.user_id
            and latest_rows.base_symbol = positions.base_symbol
            and positions.trade_mode = '{{ var("default_trade_mode") }}'
            and positions.opened_at >= {{ dbt.dateadd('day', -1, 'latest_rows.opened_at') }}
            and positions.opened_at <= {{ dbt.dateadd('day', 1, 'latest_rows.opened_at') }}

),

compared as (

    select
        latest_rows.position_row_id,
        latest_rows.source_name,
        latest_rows.app_position_id,
        latest_rows.user_id,
        positions.position_id,
        latest_rows.symbol,
        latest_rows.base_symbol,
        latest_rows.reentries_shape,
        positions.status as derived_status,
        positions.cycle_number,
        latest_rows.quantity as app_quantity,
        positions.held_qty as derived_quantity,
        coalesce(manual_qty.manual_qty, 0) as derived_manual_qty,
        latest_rows.avg_price as app_avg_price,
        positions.avg_entry_price as derived_avg_entry_price,
        latest_rows.recorded_reentry_count as app_reentry_count,
        latest_rows.reentries_item_count as app_reentries_listed,
        positions.reentry_count as derived_reentry_count,
        latest_rows.initial_entry_price as app_initial_entry_price,
        positions.initial_entry_price as derived_initial_entry_price,
        latest_rows.last_reentry_price as app_last_reentry_price,
        positions.last_reentry_price as derived_last_reentry_price,
        latest_rows.opened_at as app_opened_at,
        latest_rows.closed_at as app_closed_at,
        positions.opened_at as derived_opened_at,
        positions.closed_at as derived_closed_at
    from latest_rows
    left join candidates
        on latest_rows.position_row_id = candidates.position_row_id and candidates.nearness = 1
    left join positions
        on candidates.position_id = positions.position_id
    left join manual_qty
        on positions.position_id = manual_qty.position_id

),

reasons as (

    select
        *,
        case when position_id is null then 'no derived cycle opened within a day of opened_at' end as reason_no_cycle,
        case
            when app_closed_at is not null and app_closed_at < derived_opened_at
                then 'stale closed_at (before the cycle opened)'
            when app_closed_at is not null and derived_status = 'open'
                then 'closed in the app, open in the derived cycle'
            when app_closed_at is null and derived_status = 'closed'
                then 'open in the app, closed in the derived cycle'
        end as reason_state,
        case
            when app_reentry_count > derived_reentry_count then 'inflated reentry_count'
            when app_reentry_count < derived_reentry_count then 'reentry_count too low'
        end as reason_reentry_count,
        case
            when app_reentries_listed <> app_reentry_count then 'reentries list disagrees with reentry_count'
        end as reason_reentries_list,
        case
            when app_quantity <> derived_quantity and app_closed_at is not null and derived_status = 'closed'
                then 'stale quantity on a closed row'
            when app_quantity <> derived_quantity and derived_manual_qty > 0 then 'manual shares in the derived quantity'
            when app_quantity <> derived_quantity then 'quantity differs'
        end as reason_quantity,
        case
            when abs(app_avg_price - derived_avg_entry_price) > 0.005 * derived_avg_entry_price then 'average price differs'
        end as reason_avg_price,
        case
            when abs(app_initial_entry_price - derived_initial_entry_price) > 0.005 * derived_initial_entry_price
                then 'initial_entry_price differs'
        end as reason_initial_price,
        case
            when abs(app_last_reentry_price - derived_last_reentry_price) > 0.005 * derived_last_reentry_price
                then 'last_reentry_price differs (the app may store the decision close)'
        end as reason_last_price
    from compared

),

final as (

    select
        position_row_id,
        source_name,
        app_position_id,
        user_id,
        position_id,
        symbol,
        base_symbol,
        reentries_shape,
        derived_status,
        nullif(concat_ws(
            '; ', reason_no_cycle, reason_state, reason_reentry_count, reason_reentries_list,
            reason_quantity, reason_avg_price, reason_initial_price, reason_last_price
        ), '') as difference_reasons,
        cycle_number,
        (case when reason_no_cycle is null then 0 else 1 end)
        + (case when reason_state is null then 0 else 1 end)
        + (case when reason_reentry_count is null then 0 else 1 end)
        + (case when reason_reentries_list is null then 0 else 1 end)
        + (case when reason_quantity is null then 0 else 1 end)
        + (case when reason_avg_price is null then 0 else 1 end)
        + (case when reason_initial_price is null then 0 else 1 end)
        + (case when reason_last_price is null then 0 else 1 end) as difference_count,
        app_quantity,
        derived_quantity,
        derived_manual_qty,
        app_avg_price,
        derived_avg_entry_price,
        app_reentry_count,
        app_reentries_listed,
        derived_reentry_count,
        app_initial_entry_price,
        derived_initial_entry_price,
        app_last_reentry_price,
        derived_last_reentry_price,
        reason_no_cycle is null
        and reason_state is null
        and reason_reentry_count is null
        and reason_reentries_list is null
        and reason_quantity is null
        and reason_avg_price is null
        and reason_initial_price is null
        and reason_last_price is null as is_consistent,
        app_opened_at,
        app_closed_at,
        derived_opened_at,
        derived_closed_at
    from reasons

)

select * from final
{{ only_if_inputs_loaded() }}
