{#- One row per trade record of every trades_history.json file, its fields typed.
    The file has no user_id: attribution is R4.1, in int_history_trades_attributed. -#}
with source as (

    select * from {{ source('trading_app', 'history_trades') }}
    where {{ loaded_since_last_build() }}

),

fields as (

    select
        _source_name as source_name,
        _source_file as source_file,
        _source_row as source_row,
        _loaded_at as loaded_at,
        {{ to_bigint('_file_user_id') }} as file_user_id,
        {{ json_text('trade', 'symbol') }} as symbol,
        {{ json_text('trade', 'placed_symbol') }} as placed_symbol,
        lower(trim({{ json_text('trade', 'status') }})) as status,
        {{ json_text('trade', 'order_id') }} as order_ref,
        {{ json_text('trade', 'buy_order_id') }} as buy_order_ref,
        {{ json_text('trade', 'exit_reason') }} as exit_reason,
        {{ json_text('trade', 'entry_type') }} as recorded_entry_type,
        {{ to_number(json_text('trade', 'entry_price')) }} as entry_price,
        {{ to_quantity(json_text('trade', 'qty')) }} as qty,
        {{ to_number(json_text('trade', 'exit_price')) }} as exit_price,
        {{ json_text('trade', 'entry_time') }} as entry_time_text,
        {{ json_text('trade', 'exit_time') }} as exit_time_text,
        {{ json_text('trade', 'qty') }} as qty_text,
        {{ json_text('trade', 'entry_price') }} as entry_price_text,
        {{ json_text('trade', 'exit_price') }} as exit_price_text,
        {{ json_text('trade', 'reentries') }} as reentries_text,
        {{ json_array_length_at('trade', '$.reentries') }} as reentries_length,
        {{ value_shape(json_text('trade', 'entry_time')) }} as entry_time_shape,
        {{ value_shape(json_text('trade', 'exit_time')) }} as exit_time_shape,
        {{ is_valid_json('trade') }} as is_trade_valid,
        trade as raw_content
    from source

),

final as (

    select
        {{ dbt.concat(['source_name', "':'", 'source_file', "'#'", 'source_row']) }} as history_trade_id,
        source_name,
        source_file,
        source_row,
        file_user_id,
        symbol,
        placed_symbol,
        {{ base_symbol('symbol') }} as base_symbol,
        status,
        order_ref,
        buy_order_ref,
        exit_reason,
        recorded_entry_type,
        case
            when not is_trade_valid then 'unparseable trade JSON'
            when nullif(trim(symbol), '') is null or nullif({{ base_symbol('symbol') }}, '') is null then 'missing symbol'
            when entry_time_text is not null and {{ parse_instant('entry_time_text') }} is null
                then 'unparseable entry_time (' || entry_time_shape || ')'
            when exit_time_text is not null and {{ parse_instant('exit_time_text') }} is null
                then 'unparseable exit_time (' || exit_time_shape || ')'
            when qty_text is not null and qty is null then 'non-numeric qty'
            when qty <= 0 then 'non-positive qty'
            when entry_price_text is not null and entry_price is null then 'non-numeric entry_price'
            when exit_price_text is not null and exit_price is null then 'non-numeric exit_price'
            when entry_price <= 0 then 'non-positive entry_price'
            when exit_price <= 0 then 'non-positive exit_price'
            -- R6: a reentries value that is not a list (an object, a string, a number)
            -- would lose its items without a trace; JSON null is no reentries
            when reentries_text is not null and reentries_length is null then 'reentries is not a list'
        end as quarantine_reason,
        raw_content,
        entry_price,
        qty,
        exit_price,
        {{ parse_instant('entry_time_text') }} as entry_at,
        {{ parse_instant('exit_time_text') }} as exit_at,
        loaded_at
    from fields

)

select * from final
