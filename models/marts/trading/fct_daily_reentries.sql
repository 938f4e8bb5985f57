/* depends_on: {{ ref('int_book_fingerprints') }} */
{#- R7: one row per (book, India trading date of placed_at) with any
    reentry-typed order: how often the app's daily reentry cap was broken. -#}
with orders as (

    select * from {{ ref('fct_orders') }}
    where
        entry_type = 'reentry'
        and {{ changed_pairs_only() }}

),

daily as (

    select
        user_id,
        base_symbol,
        trade_mode,
        placed_date as trading_date,
        cast(sum(case when is_executed_reentry then 1 else 0 end) as {{ dbt.type_bigint() }}) as executed_reentries,
        count(*) as attempted_reentries,
        count(distinct case when is_executed_reentry then reentry_level end) as distinct_levels,
        count(case when is_executed_reentry then reentry_level end) as executed_reentries_with_level
    from orders
    group by user_id, base_symbol, trade_mode, placed_date

),

final as (

    select
        {{ surrogate_key(['user_id', 'base_symbol', 'trade_mode', 'trading_date']) }} as daily_reentry_id,
        user_id,
        base_symbol,
        trade_mode,
        executed_reentries,
        attempted_reentries,
        distinct_levels,
        executed_reentries > {{ var('daily_reentry_cap') }} as is_over_cap,
        executed_reentries_with_level > distinct_levels as has_repeated_level,
        trading_date
    from daily

)

select * from final
