-- R6 conservation: every raw row ends in exactly one place. Per source table and
-- file of each source (R9.1), the rows the loader counted (load_log: parsed rows + rejected lines) =
-- staged rows without a quarantine reason + quarantined rows; and every entry of
-- a history trade's reentries list is a staged or a quarantined reentry item.
with load_log as (

    select * from {{ ref('stg_trading_app__load_log') }}
    where action in ('loaded', 'replaced')

),

latest_load as (

    select
        source_name,
        source_file,
        kind,
        rows_loaded,
        row_number() over (partition by source_name, source_file order by loaded_at desc) as recency
    from load_log

),

quarantined as (

    select
        source_table,
        source_name,
        source_file,
        count(*) as quarantined_rows
    from {{ ref('quarantined_rows') }}
    group by source_table, source_name, source_file

),

staged as (

    select
        'orders' as source_table,
        source_name,
        source_file,
        count(*) as staged_rows
    from {{ ref('stg_trading_app__orders') }}
    where quarantine_reason is null
    group by source_name, source_file
    union all
    select
        'positions' as source_table,
        source_name,
        source_file,
        count(*) as staged_rows
    from {{ ref('stg_trading_app__positions') }}
    where quarantine_reason is null
    group by source_name, source_file
    union all
    select
        'fills' as source_table,
        source_name,
        source_file,
        count(*) as staged_rows
    from {{ ref('stg_trading_app__fills') }}
    where quarantine_reason is null
    group by source_name, source_file
    union all
    select
        'history_trades' as source_table,
        source_name,
        source_file,
        count(*) as staged_rows
    from {{ ref('stg_trading_app__history_trades') }}
    where quarantine_reason is null
    group by source_name, source_file
    union all
    select
        'history_reentry_items' as source_table,
        source_name,
        source_file,
        count(*) as staged_rows
    from {{ ref('stg_trading_app__history_reentry_items') }}
    where quarantine_reason is null
    group by source_name, source_file

),

expected as (

    select
        case kind when 'history' then 'history_trades' else kind end as source_table,
        source_name,
        source_file,
        rows_loaded as raw_rows
    from latest_load
    where recency = 1
    union all
    -- the items a file holds are the entries of its trades' reentries lists, counted in the
    -- trades themselves: an item the loader failed to unnest is missing here
    select
        'history_reentry_items' as source_table,
        _source_name as source_name,
        _source_file as source_file,
        sum(coalesce({{ json_array_length_at('trade', '$.reentries') }}, 0)) as raw_rows
    from {{ source('trading_app', 'history_trades') }}
    group by _source_name, _source_file

),

compared as (

    select
        coalesce(expected.source_table, staged.source_table, quarantined.source_table) as source_table,
        coalesce(expected.source_name, staged.source_name, quarantined.source_name) as source_name,
        coalesce(expected.source_file, staged.source_file, quarantined.source_file) as source_file,
        coalesce(expected.raw_rows, 0) as raw_rows,
        coalesce(staged.staged_rows, 0) as staged_rows,
        coalesce(quarantined.quarantined_rows, 0) as quarantined_rows
    from expected
    full outer join staged
        on
            expected.source_table = staged.source_table
            and expected.source_name = staged.source_name
            and expected.source_file = staged.source_file
    full outer join quarantined
        on
            coalesce(expected.source_table, staged.source_table) = quarantined.source_table
            and coalesce(expected.source_name, staged.source_name) = quarantined.source_name
            and coalesce(expected.source_file, staged.source_file) = quarantined.source_file

)

select * from compared
where raw_rows <> staged_rows + quarantined_rows
