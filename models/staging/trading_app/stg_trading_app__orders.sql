{#- One row per row of every orders export, typed and normalised (R1.1-R1.7),
    with the reason it cannot be used (R6) or NULL. No row is dropped here. -#}
{%- set naive_is_utc = in_naive_utc_window('placed_at') -%}

with source as (

    select * from {{ source('trading_app', 'orders') }}
    where {{ loaded_since_last_build() }}

),

typed as (

    select
        _source_name as source_name,
        _source_kind as source_kind,
        _source_file as source_file,
        _source_row as source_row,
        _loaded_at as loaded_at,
        {{ to_bigint('id') }} as order_id,
        {{ to_bigint('user_id') }} as user_id,
        nullif(trim(order_id), '') as broker_order_ref,
        nullif(trim(broker_order_id), '') as broker_order_id,
        trim(symbol) as symbol,
        {{ base_symbol('symbol') }} as base_symbol,
        lower(trim(side)) as side,
        nullif(lower(trim(order_type)), '') as order_type,
        lower(trim(status)) as status_raw,
        case lower(trim(status))
            when 'amo' then 'pending'
            when 'pending_execution' then 'pending'
            when 'pending' then 'pending'
            when 'sell' then 'pending'
            when 'ongoing' then 'ongoing'
            when 'closed' then 'closed'
            when 'failed' then 'failed'
            when 'retry_pending' then 'failed'
            when 'rejected' then 'failed'
            when 'cancelled' then 'cancelled'
            when 'canceled' then 'cancelled'
        end as status,
        coalesce(nullif(lower(trim(trade_mode)), ''), '{{ var("default_trade_mode") }}') as trade_mode,
        lower(trim(orig_source)) as orig_source,
        nullif(lower(trim(entry_type)), '') as recorded_entry_type,
        coalesce(reason, failure_reason, rejection_reason, cancelled_reason) as reason,
        metadata,
        {{ to_quantity('quantity') }} as quantity,
        {{ to_quantity('execution_qty') }} as execution_qty,
        {{ to_number('price') }} as price,
        {{ to_number('avg_price') }} as avg_price,
        {{ to_number('execution_price') }} as execution_price,
        {{ to_number(json_text('metadata', 'rsi_level')) }} as metadata_rsi_level,
        {{ to_number(json_text('metadata', 'reentry_level')) }} as metadata_reentry_level,
        {{ to_number(json_text('metadata', 'level')) }} as metadata_level,
        {{ to_number(json_text('metadata', 'rsi')) }} as metadata_rsi,
        {{ to_number(json_text('metadata', 'rsi10')) }} as metadata_rsi10,
        {{ to_number(json_text('metadata', 'rsi_value')) }} as metadata_rsi_value,
        {{ to_number(json_text('metadata', 'price')) }} as metadata_price,
        {{ is_valid_json('metadata') }} as is_metadata_valid,
        {{ parse_instant('placed_at', naive_is_utc) }} as placed_at,
        {{ parse_instant('updated_at', naive_is_utc) }} as updated_at,
        {{ parse_instant('filled_at', naive_is_utc) }} as recorded_filled_at,
        {{ parse_instant('execution_time', naive_is_utc) }} as execution_time,
        {{ parse_instant('closed_at', naive_is_utc) }} as closed_at,
        placed_at as placed_at_text,
        updated_at as updated_at_text,
        filled_at as filled_at_text,
        execution_time as execution_time_text,
        closed_at as closed_at_text,
        execution_qty as execution_qty_text,
        execution_price as execution_price_text,
        price as price_text,
        avg_price as avg_price_text,
        quantity as quantity_text,
        id as id_text,
        user_id as user_id_text,
        {{ to_number('id') }} as id_number,
        {{ to_number('user_id') }} as user_id_number,
        {{ json_text('metadata', 'rsi_level') }} as metadata_rsi_level_text,
        {{ json_text('metadata', 'reentry_level') }} as metadata_reentry_level_text,
        {{ json_text('metadata', 'level') }} as metadata_level_text,
        {{ json_text('metadata', 'rsi') }} as metadata_rsi_text,
        {{ json_text('metadata', 'rsi10') }} as metadata_rsi10_text,
        {{ json_text('metadata', 'rsi_value') }} as metadata_rsi_value_text,
        {{ json_text('metadata', 'price') }} as metadata_price_text,
        {{ value_shape('placed_at') }} as placed_at_shape,
        {{ value_shape('updated_at') }} as updated_at_shape,
        {{ value_shape('filled_at') }} as filled_at_shape,
        {{ value_shape('execution_time') }} as execution_time_shape,
        {{ value_shape('closed_at') }} as closed_at_shape,
        {{ row_as_json('source') }} as raw_content
    from source

),

normalised as (

    select
        *,
        -- R1.3: filled quantity
        case
            when execution_qty > 0 then execution_qty
            when execution_qty is null and status in ('ongoing', 'closed') then quantity
            else 0
        end as filled_qty,
        -- R1.4: fill price, first positive of execution_price, avg_price, price
        case
            when execution_price > 0 then execution_price
            when avg_price > 0 then avg_price
            when price > 0 then price
        end as fill_price_candidate,
        coalesce(orig_source = 'manual', false) as is_manual,
        -- R4.3: level, RSI and decision close as the order's own metadata gives them
        coalesce(metadata_rsi_level, metadata_reentry_level, metadata_level) as metadata_reentry_level_any,
        -- paper-mode reentries of the app recorded the RSI as rsi_value (app-database.md)
        coalesce(metadata_rsi, metadata_rsi10, metadata_rsi_value) as metadata_reentry_rsi,
        -- R6: why the row cannot be used, first reason wins; every value a data
        -- test of the marts would reject is a reason here, never a failed build
        case
            when nullif(trim(id_text), '') is null then 'missing id'
            when order_id is null and id_number is not null then 'non-integer id'
            when order_id is null then 'non-numeric id'
            when nullif(trim(user_id_text), '') is null then 'missing user_id'
            when user_id is null and user_id_number is not null then 'non-integer user_id'
            when user_id is null then 'non-numeric user_id'
            when nullif(symbol, '') is null or nullif(base_symbol, '') is null then 'missing symbol'
            when nullif(trim(placed_at_text), '') is null then 'missing placed_at'
            when placed_at is null then 'unparseable placed_at (' || placed_at_shape || ')'
            when side is null or side not in ('buy', 'sell') then 'unknown side'
            when status is null then 'unknown status'
            when trade_mode not in ('broker', 'paper') then 'unknown trade_mode'
            when order_type not in ('market', 'limit') then 'unknown order_type'
            when recorded_entry_type not in ('initial', 'reentry', 'manual', 'exit') then 'unknown entry_type'
            when quantity is null then 'non-numeric quantity'
            when quantity <= 0 then 'non-positive quantity'
            when nullif(trim(execution_qty_text), '') is not null and execution_qty is null then 'non-numeric execution_qty'
            when nullif(trim(execution_price_text), '') is not null and execution_price is null then 'non-numeric execution_price'
            when nullif(trim(price_text), '') is not null and price is null then 'non-numeric price'
            when nullif(trim(avg_price_text), '') is not null and avg_price is null then 'non-numeric avg_price'
            when nullif(trim(updated_at_text), '') is not null and updated_at is null
                then 'unparseable updated_at (' || updated_at_shape || ')'
            when nullif(trim(filled_at_text), '') is not null and recorded_filled_at is null
                then 'unparseable filled_at (' || filled_at_shape || ')'
            when nullif(trim(execution_time_text), '') is not null and execution_time is null
                then 'unparseable execution_time (' || execution_time_shape || ')'
            when nullif(trim(closed_at_text), '') is not null and closed_at is null
                then 'unparseable closed_at (' || closed_at_shape || ')'
            when updated_at < placed_at then 'updated_at before placed_at'
            when execution_time < placed_at then 'execution_time before placed_at'
            when recorded_filled_at < placed_at then 'filled_at before placed_at'
            when not is_metadata_valid then 'unparseable metadata JSON'
            when
                (metadata_rsi_level_text is not null and metadata_rsi_level is null)
                or (metadata_reentry_level_text is not null and metadata_reentry_level is null)
                or (metadata_level_text is not null and metadata_level is null)
                or (metadata_rsi_text is not null and metadata_rsi is null)
                or (metadata_rsi10_text is not null and metadata_rsi10 is null)
                or (metadata_rsi_value_text is not null and metadata_rsi_value is null)
                or (metadata_price_text is not null and metadata_price is null)
                then 'non-numeric metadata level, rsi or price'
            when coalesce(metadata_rsi_level, metadata_reentry_level, metadata_level) not in (30, 20, 10)
                then 'unknown metadata reentry level'
            when coalesce(metadata_rsi, metadata_rsi10, metadata_rsi_value) not between 0 and 100 then 'metadata rsi out of range'
            when metadata_price <= 0 then 'non-positive metadata price'
        end as quarantine_reason
    from typed

),

final as (

    select
        source_name,
        source_kind,
        source_file,
        source_row,
        order_id,
        user_id,
        broker_order_ref,
        broker_order_id,
        symbol,
        base_symbol,
        side,
        order_type,
        status_raw,
        status,
        trade_mode,
        orig_source,
        recorded_entry_type,
        reason,
        metadata,
        quarantine_reason,
        raw_content,
        quantity,
        price,
        avg_price,
        execution_qty,
        execution_price,
        filled_qty,
        case when filled_qty > 0 then fill_price_candidate end as fill_price,
        metadata_reentry_level_any as metadata_reentry_level,
        metadata_reentry_rsi,
        metadata_price as metadata_decision_close,
        filled_qty > 0 as is_executed,
        is_manual,
        placed_at,
        updated_at,
        -- R1.5: fill time, only for an executed order
        case when filled_qty > 0 then coalesce(execution_time, recorded_filled_at, placed_at) end as filled_at,
        closed_at,
        loaded_at
    from normalised

)

select * from final
