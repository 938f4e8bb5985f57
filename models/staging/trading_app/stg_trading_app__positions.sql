{#- One row per row of every positions export: the app's own, unreliable view
    of its positions (raw-data.md). Typed; the reentries JSON is read in its
    three shapes (a list; {"reentries": [...]}; {"_cycle_metadata": {...},
    "reentries": [...]}). Its closed_at is a close marker of R6; the rest is
    compared with the derived cycles in rpt_positions_table_vs_derived. -#}
{%- set naive_is_utc = in_naive_utc_window('opened_at', 'positions_naive_utc') %}
with source as (

    select * from {{ source('trading_app', 'positions') }}
    where {{ loaded_since_last_build() }}

),

typed as (

    select
        _source_name as source_name,
        _source_file as source_file,
        _source_row as source_row,
        _loaded_at as loaded_at,
        {{ to_bigint('id') }} as app_position_id,
        {{ to_bigint('user_id') }} as user_id,
        trim(symbol) as symbol,
        {{ base_symbol('symbol') }} as base_symbol,
        {{ to_quantity('quantity') }} as quantity,
        {{ to_number('avg_price') }} as avg_price,
        {{ to_number('unrealized_pnl') }} as unrealized_pnl,
        {{ to_bigint('reentry_count') }} as recorded_reentry_count,
        {{ to_number('initial_entry_price') }} as initial_entry_price,
        {{ to_number('last_reentry_price') }} as last_reentry_price,
        {{ to_number('entry_rsi') }} as entry_rsi,
        {{ to_number('exit_price') }} as exit_price,
        lower(trim(exit_reason)) as exit_reason,
        {{ to_number('exit_rsi') }} as exit_rsi,
        {{ to_number('realized_pnl') }} as realized_pnl,
        {{ to_number('realized_pnl_pct') }} as realized_pnl_pct,
        nullif(trim(sell_order_id), '') as sell_order_ref,
        reentries,
        {{ json_array_length_at('reentries', '$') }} as list_length,
        {{ json_array_length_at('reentries', '$.reentries') }} as object_list_length,
        {{ json_text('reentries', '_cycle_metadata') }} as cycle_metadata,
        {{ is_valid_json('reentries') }} as is_reentries_valid,
        {{ parse_instant('opened_at', naive_is_utc) }} as opened_at,
        {{ parse_instant('closed_at', naive_is_utc) }} as closed_at,
        id as id_text,
        user_id as user_id_text,
        opened_at as opened_at_text,
        closed_at as closed_at_text,
        quantity as quantity_text,
        avg_price as avg_price_text,
        exit_price as exit_price_text,
        reentry_count as reentry_count_text,
        {{ to_number('id') }} as id_number,
        {{ to_number('user_id') }} as user_id_number,
        {{ value_shape('opened_at') }} as opened_at_shape,
        {{ value_shape('closed_at') }} as closed_at_shape,
        {{ row_as_json('source') }} as raw_content
    from source

),

final as (

    select
        {{ dbt.concat(['source_name', "':'", 'source_file', "'#'", 'source_row']) }} as position_row_id,
        source_name,
        app_position_id,
        user_id,
        source_file,
        source_row,
        symbol,
        base_symbol,
        exit_reason,
        sell_order_ref,
        case
            when list_length is not null then 'list'
            when cycle_metadata is not null then 'object_with_cycle_metadata'
            when object_list_length is not null then 'object'
        end as reentries_shape,
        case
            when nullif(trim(id_text), '') is null then 'missing id'
            when app_position_id is null and id_number is not null then 'non-integer id'
            when app_position_id is null then 'non-numeric id'
            when nullif(trim(user_id_text), '') is null then 'missing user_id'
            when user_id is null and user_id_number is not null then 'non-integer user_id'
            when user_id is null then 'non-numeric user_id'
            when nullif(symbol, '') is null or nullif(base_symbol, '') is null then 'missing symbol'
            when nullif(trim(opened_at_text), '') is not null and opened_at is null
                then 'unparseable opened_at (' || opened_at_shape || ')'
            when nullif(trim(closed_at_text), '') is not null and closed_at is null
                then 'unparseable closed_at (' || closed_at_shape || ')'
            when nullif(trim(quantity_text), '') is not null and quantity is null then 'non-numeric quantity'
            when nullif(trim(avg_price_text), '') is not null and avg_price is null then 'non-numeric avg_price'
            when nullif(trim(exit_price_text), '') is not null and exit_price is null then 'non-numeric exit_price'
            when exit_price <= 0 then 'non-positive exit_price'
            when nullif(trim(reentry_count_text), '') is not null and recorded_reentry_count is null then 'non-numeric reentry_count'
            when not is_reentries_valid then 'unparseable reentries JSON'
        end as quarantine_reason,
        raw_content,
        quantity,
        avg_price,
        unrealized_pnl,
        recorded_reentry_count,
        coalesce(list_length, object_list_length) as reentries_item_count,
        initial_entry_price,
        last_reentry_price,
        entry_rsi,
        exit_price,
        exit_rsi,
        realized_pnl,
        realized_pnl_pct,
        opened_at,
        closed_at,
        loaded_at
    from typed

)

select * from final
