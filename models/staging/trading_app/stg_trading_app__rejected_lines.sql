{#- One row per CSV line the loader could not parse: always quarantined (R6). -#}
with source as (

    select * from {{ source('trading_app', 'rejected_lines') }}

),

final as (

    select
        source_table,
        _source_name as source_name,
        _source_file as source_file,
        line_number,
        'unparseable CSV line: ' || error as quarantine_reason,
        raw_line as raw_content,
        _loaded_at as loaded_at
    from source

)

select * from final
