{#- One row per file load attempt (loaded, replaced, refused), with the
    columns the file had: the app era of an export is read from them. -#}
with source as (

    select * from {{ source('trading_app', 'load_log') }}

),

final as (

    select
        source_name,
        source_kind,
        source_file,
        kind,
        content_hash,
        action,
        message,
        source_columns,
        size_bytes,
        rows_loaded,
        loaded_at
    from source

)

select * from final
