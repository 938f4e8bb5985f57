{#- One row per item of a history trade's reentries list. `time` is the
    placement time (newer files also carry placed_at), `price` the decision close. -#}
with source as (

    select * from {{ source('trading_app', 'history_reentry_items') }}
    where {{ loaded_since_last_build() }}

),

fields as (

    select
        _source_name as source_name,
        _source_file as source_file,
        _source_row as source_row,
        _item_index as item_index,
        _loaded_at as loaded_at,
        {{ to_quantity(json_text('item', 'qty')) }} as qty,
        {{ to_number(json_text('item', 'level')) }} as reentry_level,
        {{ to_number(json_text('item', 'rsi')) }} as reentry_rsi,
        {{ to_number(json_text('item', 'price')) }} as decision_close,
        {{ json_text('item', 'order_id') }} as order_ref,
        coalesce({{ json_text('item', 'time') }}, {{ json_text('item', 'placed_at') }}) as placed_at_text,
        {{ json_text('item', 'qty') }} as qty_text,
        {{ json_text('item', 'level') }} as level_text,
        {{ json_text('item', 'rsi') }} as rsi_text,
        {{ json_text('item', 'price') }} as price_text,
        {{ is_valid_json('item') }} as is_item_valid,
        item as raw_content
    from source

),

final as (

    select
        {{ dbt.concat(['source_name', "':'", 'source_file', "'#'", 'source_row', "'#'", 'item_index']) }} as history_item_id,
        {{ dbt.concat(['source_name', "':'", 'source_file', "'#'", 'source_row']) }} as history_trade_id,
        source_name,
        source_file,
        source_row,
        item_index,
        order_ref,
        case
            when not is_item_valid then 'unparseable item JSON'
            when placed_at_text is null then 'missing time'
            when {{ parse_instant('placed_at_text') }} is null then 'unparseable time (' || {{ value_shape('placed_at_text') }} || ')'
            when qty_text is not null and qty is null then 'non-numeric qty'
            when qty <= 0 then 'non-positive qty'
            when level_text is not null and reentry_level is null then 'non-numeric level'
            when rsi_text is not null and reentry_rsi is null then 'non-numeric rsi'
            when price_text is not null and decision_close is null then 'non-numeric price'
            when reentry_level not in (30, 20, 10) then 'unknown level'
            when reentry_rsi not between 0 and 100 then 'rsi out of range'
            when decision_close <= 0 then 'non-positive price'
        end as quarantine_reason,
        raw_content,
        qty,
        reentry_level,
        reentry_rsi,
        decision_close,
        {{ parse_instant('placed_at_text') }} as placed_at,
        loaded_at
    from fields

)

select * from final
