{#- The app's own entry_type against the derived one (R3), per app era and
    user: a confusion matrix. The era of an order is read from the export it
    came from: exports written by app versions that record entry_type have
    the column (load_log.source_columns); older exports do not. -#}
with orders as (

    select * from {{ ref('fct_orders') }}

),

load_log as (

    select * from {{ ref('stg_trading_app__load_log') }}
    where action in ('loaded', 'replaced')

),

file_eras as (

    select
        source_name,
        source_file,
        max(case when source_columns like '%"entry_type"%' then 1 else 0 end) as has_entry_type_column
    from load_log
    group by source_name, source_file

),

classified as (

    select
        orders.user_id,
        case
            when file_eras.has_entry_type_column = 1 then 'records_entry_type'
            else 'before_entry_type'
        end as app_era,
        coalesce(orders.recorded_entry_type, 'none') as recorded_entry_type,
        orders.entry_type
    from orders
    left join file_eras
        on
            orders.source_name = file_eras.source_name
            and orders.source_file = file_eras.source_file

),

matrix as (

    select
        app_era,
        user_id,
        recorded_entry_type,
        entry_type,
        count(*) as order_count
    from classified
    group by app_era, user_id, recorded_entry_type, entry_type

),

final as (

    select
        {{ surrogate_key(['app_era', 'user_id', 'recorded_entry_type', 'entry_type']) }} as matrix_cell_id,
        user_id,
        app_era,
        recorded_entry_type,
        entry_type,
        order_count,
        cast(order_count as {{ type_double() }})
        / sum(order_count) over (partition by app_era, user_id, recorded_entry_type) as share_of_recorded,
        case when recorded_entry_type <> 'none' then recorded_entry_type = entry_type end as is_agreement
    from matrix

)

select * from final
{{ only_if_inputs_loaded() }}
