/* depends_on: {{ ref('int_book_fingerprints') }} */
{#- R3: the derived entry type of every order, from the walk's state.
    Sells are exits; manual buys are manual (they can still open a cycle);
    other executed buys are initial when they opened their cycle, else reentry;
    buys never executed are reentry when a cycle was open at their placed_at,
    else initial. parent_order_id is the id of the cycle's opening buy (the
    opening buy's is its own): the one definition of the opening buy, from the
    walk's opens_cycle; fct_positions reads its price, quantity and time
    through fct_orders. is_executed_reentry (an executed order typed
    reentry: what R4.4 numbers, R5 counts and R7 caps) is defined here and only
    here. The app's entry_type is never used here. -#}
with walked as (

    select * from {{ ref('int_book_events_walked') }}
    where
        event_type in ('buy', 'sell')
        and {{ changed_pairs_only() }}

),

typed as (

    select
        source_name,
        order_id,
        position_id,
        user_id,
        base_symbol,
        trade_mode,
        cycle_number,
        case
            when event_type = 'sell' then 'exit'
            when is_manual then 'manual'
            when is_executed and opens_cycle then 'initial'
            when is_executed then 'reentry'
            when held_before > 0 then 'reentry'
            else 'initial'
        end as entry_type,
        event_seq,
        held_before,
        held_after,
        oversold_qty,
        is_executed,
        opens_cycle,
        closes_cycle,
        is_attached_exit,
        is_orphan_exit
    from walked

),

final as (

    select
        source_name,
        order_id,
        position_id,
        -- a cycle has one opening buy: its id and source (R9.1) name the parent
        min(case when opens_cycle then order_id end) over (partition by position_id) as parent_order_id,
        min(case when opens_cycle then source_name end) over (partition by position_id) as parent_source_name,
        user_id,
        base_symbol,
        trade_mode,
        cycle_number,
        entry_type,
        event_seq,
        held_before,
        held_after,
        oversold_qty,
        entry_type = 'reentry' and is_executed as is_executed_reentry,
        opens_cycle,
        closes_cycle,
        is_attached_exit,
        is_orphan_exit
    from typed

)

select * from final
