{#- R6: every raw row that cannot be used, with its source, its raw content and
    the reason. Together with the staged rows it accounts for every raw row
    (tests/staging/assert_raw_rows_conserved.sql). -#}
with orders as (

    select * from {{ ref('stg_trading_app__orders') }}
    where quarantine_reason is not null

),

positions as (

    select * from {{ ref('stg_trading_app__positions') }}
    where quarantine_reason is not null

),

fills as (

    select * from {{ ref('stg_trading_app__fills') }}
    where quarantine_reason is not null

),

history_trades as (

    select * from {{ ref('stg_trading_app__history_trades') }}
    where quarantine_reason is not null

),

history_items as (

    select * from {{ ref('stg_trading_app__history_reentry_items') }}
    where quarantine_reason is not null

),

rejected_lines as (

    select * from {{ ref('stg_trading_app__rejected_lines') }}

),

unioned as (

    select
        'orders' as source_table,
        source_name,
        source_file,
        source_row,
        cast(null as {{ dbt.type_bigint() }}) as item_index,
        'row' as position_kind,
        quarantine_reason,
        raw_content,
        loaded_at
    from orders
    union all
    select
        'positions' as source_table,
        source_name,
        source_file,
        source_row,
        cast(null as {{ dbt.type_bigint() }}) as item_index,
        'row' as position_kind,
        quarantine_reason,
        raw_content,
        loaded_at
    from positions
    union all
    select
        'fills' as source_table,
        source_name,
        source_file,
        source_row,
        cast(null as {{ dbt.type_bigint() }}) as item_index,
        'row' as position_kind,
        quarantine_reason,
        raw_content,
        loaded_at
    from fills
    union all
    select
        'history_trades' as source_table,
        source_name,
        source_file,
        source_row,
        cast(null as {{ dbt.type_bigint() }}) as item_index,
        'row' as position_kind,
        quarantine_reason,
        raw_content,
        loaded_at
    from history_trades
    union all
    select
        'history_reentry_items' as source_table,
        source_name,
        source_file,
        source_row,
        item_index,
        'row' as position_kind,
        quarantine_reason,
        raw_content,
        loaded_at
    from history_items
    union all
    select
        source_table,
        source_name,
        source_file,
        line_number as source_row,
        cast(null as {{ dbt.type_bigint() }}) as item_index,
        'line' as position_kind,
        quarantine_reason,
        raw_content,
        loaded_at
    from rejected_lines

),

final as (

    select
        {{ dbt.concat([
            'source_table', "'|'", 'source_name', "'|'", 'source_file', "'|'",
            "cast(source_row as " ~ dbt.type_string() ~ ")", "'|'",
            "coalesce(cast(item_index as " ~ dbt.type_string() ~ "), '')", "'|'", 'position_kind'
        ]) }} as quarantined_row_id,
        source_table,
        source_name,
        source_file,
        quarantine_reason,
        raw_content,
        position_kind,
        source_row,
        item_index,
        loaded_at
    from unioned

)

select * from final
