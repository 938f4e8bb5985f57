{#- The orders behind rpt_entry_type_recorded_vs_derived's disagreements: every
    order whose app-recorded entry_type differs from the derived one (R3), with
    the book state that explains it. -#}
with orders as (

    select * from {{ ref('fct_orders') }}
    where recorded_entry_type is not null and recorded_entry_type <> entry_type

),

final as (

    select
        source_name,
        order_id,
        user_id,
        position_id,
        parent_order_id,
        parent_source_name,
        base_symbol,
        trade_mode,
        side,
        status,
        recorded_entry_type,
        entry_type,
        case
            when recorded_entry_type = 'reentry' and entry_type = 'manual'
                then 'a manual buy recorded as a reentry'
            when recorded_entry_type = 'reentry' and entry_type = 'initial'
                then 'a buy that opened a cycle (nothing held) recorded as a reentry'
            when recorded_entry_type = 'initial' and entry_type = 'reentry'
                then 'a buy while shares were held recorded as initial'
            when recorded_entry_type in ('initial', 'reentry', 'manual') and entry_type = 'exit'
                then 'a sell recorded as a buy type'
            else 'other'
        end as likely_cause,
        source_file,
        cycle_number,
        filled_qty,
        is_executed,
        placed_date,
        placed_at,
        filled_at
    from orders

)

select * from final
{{ only_if_inputs_loaded() }}
