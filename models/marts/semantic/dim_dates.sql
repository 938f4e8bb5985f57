{#- The calendar MetricFlow aggregates over (its time spine): one row per day
    from var `calendar_start_date` to var `calendar_end_date`, India calendar
    dates like every `*_date` of the marts. -#}
with days as (

    {{ dbt.date_spine(
        "day",
        "cast('" ~ var('calendar_start_date', '2015-01-01') ~ "' as date)",
        "cast('" ~ var('calendar_end_date', '2035-12-31') ~ "' as date)",
    ) }}

),

final as (

    select cast(date_day as date) as date_day
    from days

)

select * from final
{{ only_if_inputs_loaded() }}
