{#- R4.2: the reentry items of attributed history trades, de-duplicated on
    (user, base symbol, time, qty, level): the app copied each item into every
    open trade of the symbol. The copy kept is the first by file, trade
    position, item position. Items of unattributed trades are left out (they
    are used for nothing user-specific, R4.1). -#}
with items as (

    select * from {{ ref('stg_trading_app__history_reentry_items') }}
    where quarantine_reason is null

),

trades as (

    select * from {{ ref('int_history_trades_attributed') }}
    where user_id is not null

),

attributed as (

    select
        items.history_item_id,
        items.history_trade_id,
        trades.user_id,
        trades.base_symbol,
        items.order_ref,
        items.qty,
        items.reentry_level,
        items.reentry_rsi,
        items.decision_close,
        items.placed_at,
        count(*) over (
            partition by trades.user_id, trades.base_symbol, items.placed_at, items.qty, items.reentry_level
        ) as copy_count,
        row_number() over (
            partition by trades.user_id, trades.base_symbol, items.placed_at, items.qty, items.reentry_level
            order by items.source_file, items.source_row, items.item_index
        ) as copy_number
    from items
    inner join trades
        on items.history_trade_id = trades.history_trade_id

),

final as (

    select
        history_item_id,
        history_trade_id,
        user_id,
        base_symbol,
        order_ref,
        copy_count,
        qty,
        reentry_level,
        reentry_rsi,
        decision_close,
        placed_at
    from attributed
    where copy_number = 1

)

select * from final
{{ only_if_inputs_loaded() }}
