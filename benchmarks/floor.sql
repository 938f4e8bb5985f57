-- The floor: the four trading marts (R1-R5, R7, R4.1 history attribution) in
-- plain hand-written DuckDB SQL, run in ONE session by benchmarks/floor.py
-- straight from the raw folder (no loader, no dbt, no tests, no quarantine).
-- Placeholders {orders_csv} {orders_parquet} {history_files} are file lists
-- filled in by floor.py; the session has TimeZone = Asia/Kolkata, so naive
-- timestamps read as India wall clock and offsets mean what they say (R1.7).
-- It is a floor, not a second implementation: R6 quarantine, R8 and R9 are
-- skipped, and the R4.3 greedy matching is one round of mutual-best pairs.

-- R1: read every orders export, normalise, keep valid rows, newest version wins (R1.8).
create temp table orders as
with raw_rows as (
    {orders_union}
),

normalised as (
    select
        try_cast(id as bigint) as id,
        try_cast(user_id as bigint) as user_id,
        regexp_replace(regexp_replace(upper(trim(symbol)), '\.(NS|BO)$', ''),
                       '(.)-(EQ|BE|BL|BZ|SM|ST)$', '\1') as base_symbol,
        coalesce(lower(trim(trade_mode)), 'broker') as trade_mode,
        lower(trim(side)) as side,
        case lower(trim(status))
            when 'amo' then 'pending' when 'pending_execution' then 'pending'
            when 'pending' then 'pending' when 'sell' then 'pending'
            when 'ongoing' then 'ongoing' when 'closed' then 'closed'
            when 'failed' then 'failed' when 'retry_pending' then 'failed' when 'rejected' then 'failed'
            when 'cancelled' then 'cancelled' when 'canceled' then 'cancelled'
        end as status,
        try_cast(quantity as double) as quantity,
        try_cast(execution_qty as double) as execution_qty,
        coalesce(
            case when try_cast(execution_price as double) > 0 then try_cast(execution_price as double) end,
            case when try_cast(avg_price as double) > 0 then try_cast(avg_price as double) end,
            case when try_cast(price as double) > 0 then try_cast(price as double) end
        ) as price_known,
        lower(trim(orig_source)) = 'manual' as is_manual,
        order_id as app_order_id,
        broker_order_id,
        entry_type as recorded_entry_type,
        case when json_valid(metadata) then metadata end as metadata,
        try_cast(placed_at as timestamptz) as placed_at,
        try_cast(updated_at as timestamptz) as updated_at,
        coalesce(try_cast(execution_time as timestamptz), try_cast(filled_at as timestamptz)) as reported_fill_at,
        filename as source_file
    from raw_rows
),

valid as (
    select * from normalised
    where id is not null and user_id is not null and base_symbol <> '' and placed_at is not null
        and side in ('buy', 'sell') and status is not null and quantity > 0
    qualify row_number() over (partition by id order by updated_at desc nulls last, source_file desc) = 1
)

select
    *,
    case
        when execution_qty > 0 then execution_qty
        when status in ('ongoing', 'closed') and execution_qty is null then quantity
        else 0
    end as filled_qty,
    filled_qty > 0 as is_executed,
    case when is_executed then price_known end as fill_price,
    case when is_executed then coalesce(reported_fill_at, placed_at) end as filled_at
from valid;

-- History trades of every history file (the shared one and user_<id>/ ones).
create temp table history_trades as
with trades as (
    -- each file's trades array, streamed (floor.py writes it out of the file: a production-sized
    -- history file read as one JSON document needs several times its size in memory)
    select
        filename,
        try_cast(regexp_extract(filename, 'user_(\d+)/trades_history\.json$', 1) as bigint) as file_user_id,
        trade,
        trade_index
    from ({history_arrays})
)

select
    filename || '#' || trade_index as trade_key,
    file_user_id,
    regexp_replace(regexp_replace(upper(trim(trade ->> 'symbol')), '\.(NS|BO)$', ''),
                   '(.)-(EQ|BE|BL|BZ|SM|ST)$', '\1') as base_symbol,
    lower(trim(trade ->> 'status')) as status,
    try_cast(trade ->> 'entry_time' as timestamptz) as entry_at,
    try_cast(trade ->> 'exit_time' as timestamptz) as exit_at,
    try_cast(trade ->> 'exit_price' as double) as exit_price,
    try_cast(trade ->> 'qty' as double) as qty,
    trade ->> 'order_id' as ref_order_id,
    trade ->> 'buy_order_id' as ref_buy_order_id,
    case when json_type(trade -> 'reentries') = 'ARRAY' then trade -> 'reentries' end as reentries
from trades
where trade ->> 'symbol' is not null;

-- R4.1: who a history trade belongs to (file user, then order id, then a nearby buy).
create temp table trade_users as
with refs as (
    select app_order_id as ref, user_id from orders where app_order_id is not null
    union
    select broker_order_id, user_id from orders where broker_order_id is not null
),

trade_refs as (
    select trade_key, ref_order_id as ref from history_trades where ref_order_id is not null
    union
    select trade_key, ref_buy_order_id from history_trades where ref_buy_order_id is not null
),

by_order_id as (
    select trade_refs.trade_key, min(refs.user_id) as user_id
    from trade_refs
    inner join refs on refs.ref = trade_refs.ref
    group by trade_refs.trade_key
    having count(distinct refs.user_id) = 1
),

item_qty as (
    select trade_key, sum(coalesce(try_cast(item ->> 'qty' as double), 0)) as reentry_qty
    from (select trade_key, unnest(from_json(reentries, '["json"]')) as item from history_trades)
    group by trade_key
),

nearby as (
    select
        history_trades.trade_key,
        orders.user_id,
        orders.filled_qty = history_trades.qty - coalesce(item_qty.reentry_qty, 0) as same_qty
    from history_trades
    left join item_qty on item_qty.trade_key = history_trades.trade_key
    inner join orders
        on orders.base_symbol = history_trades.base_symbol and orders.side = 'buy' and orders.is_executed
        and orders.filled_at between history_trades.entry_at - interval 30 minute
        and history_trades.entry_at + interval 30 minute
),

by_nearby_buy as (
    select
        trade_key,
        case
            when count(distinct user_id) = 1 then min(user_id)
            when count(distinct case when same_qty then user_id end) = 1 then min(case when same_qty then user_id end)
        end as user_id
    from nearby
    group by trade_key
)

select
    history_trades.*,
    coalesce(history_trades.file_user_id, by_order_id.user_id, by_nearby_buy.user_id) as user_id
from history_trades
left join by_order_id on by_order_id.trade_key = history_trades.trade_key
left join by_nearby_buy on by_nearby_buy.trade_key = history_trades.trade_key;

-- R2: the walk. Events are orders and close markers; markers cut each book's walk
-- into segments (held = 0 after a marker); within a segment the held quantity is the
-- running sum clamped at 0 (held = S - min(0, running min S): an oversold sell leaves 0).
create temp table walked as
with events as (
    select
        user_id, base_symbol, trade_mode, id, null as trade_key, side, is_executed, is_manual,
        filled_qty, fill_price, null::double as exit_price,
        coalesce(filled_at, placed_at) as event_at,
        case side when 'buy' then 0 else 1 end as kind_rank,
        case when not is_executed then 0.0 when side = 'buy' then filled_qty else -filled_qty end as delta
    from orders
    union all
    select
        user_id, base_symbol, 'broker', null, trade_key, 'marker', false, false,
        0, null, exit_price, exit_at, 2, 0.0
    from trade_users
    where user_id is not null and status = 'closed' and exit_at is not null
),

segmented as (
    select
        *,
        row_number() over book_walk as event_number,
        coalesce(sum(case when side = 'marker' then 1 else 0 end) over (
            partition by user_id, base_symbol, trade_mode order by event_at, kind_rank, id, trade_key
            rows between unbounded preceding and 1 preceding), 0) as segment
    from events
    window book_walk as (partition by user_id, base_symbol, trade_mode order by event_at, kind_rank, id, trade_key)
),

summed as (
    select
        *,
        sum(delta) over segment_walk as running_sum
    from segmented
    window segment_walk as (partition by user_id, base_symbol, trade_mode, segment order by event_number)
),

clamped as (
    select
        *,
        running_sum - least(0, min(running_sum) over segment_walk) as held_after_raw
    from summed
    window segment_walk as (partition by user_id, base_symbol, trade_mode, segment order by event_number)
),

with_before as (
    select
        *,
        coalesce(lag(held_after_raw) over segment_walk, 0) as held_before
    from clamped
    window segment_walk as (partition by user_id, base_symbol, trade_mode, segment order by event_number)
),

flagged as (
    select
        *,
        case when side = 'marker' then 0 else held_after_raw end as held_after,
        side = 'buy' and is_executed and held_before < 1e-9 as is_opening,
        held_before >= 1e-9 and (side = 'marker' or (side = 'sell' and held_after_raw < 1e-9)) as is_close
    from with_before
),

numbered as (
    select
        *,
        sum(case when is_opening then 1 else 0 end) over book_walk as current_cycle,
        last_value(case when is_close then event_at end ignore nulls) over book_before as last_close_at,
        last_value(case when is_close then side = 'marker' end ignore nulls) over book_before as last_close_by_marker
    from flagged
    window
        book_walk as (partition by user_id, base_symbol, trade_mode order by event_number),
        book_before as (partition by user_id, base_symbol, trade_mode order by event_number
                        rows between unbounded preceding and 1 preceding)
)

select
    *,
    case
        when is_opening or held_before >= 1e-9 then current_cycle
        when side = 'sell' and is_executed and last_close_by_marker
            and event_at - last_close_at < interval 48 hour then current_cycle
    end as cycle_number,
    not is_opening and held_before < 1e-9 and cycle_number is not null as is_attached_sell
from numbered;

-- R3: entry types; R5 running average cost (a linear recurrence over the cycle's buys:
-- a_j = alpha_j a_(j-1) + beta_j, solved with running sums of logs).
create temp table typed_events as
with typed as (
    select
        *,
        case when cycle_number is not null
            then md5(user_id || '|' || base_symbol || '|' || trade_mode || '|' || cycle_number) end as position_id,
        case
            when side = 'sell' then 'exit'
            when side = 'marker' then null
            when is_manual then 'manual'
            when is_opening then 'initial'
            when held_before >= 1e-9 then 'reentry'
            else 'initial'
        end as entry_type,
        side = 'buy' and is_executed and fill_price is not null as is_priced_buy
    from walked
),

recurrence as (
    select
        *,
        coalesce(count(case when is_priced_buy then 1 end) over cycle_before, 0) as priced_buys_before,
        is_priced_buy and priced_buys_before = 0 as is_first_priced,
        case
            when side <> 'buy' or not is_executed then null
            when fill_price is null then 0.0
            when is_first_priced then 0.0
            else ln(held_before / (held_before + filled_qty))
        end as log_alpha,
        case
            when side <> 'buy' or not is_executed then null
            when fill_price is null then 0.0
            when is_first_priced then fill_price
            else filled_qty * fill_price / (held_before + filled_qty)
        end as beta
    from typed
    window cycle_before as (partition by position_id order by event_number
                            rows between unbounded preceding and 1 preceding)
),

averaged as (
    select
        *,
        sum(case when is_first_priced or priced_buys_before > 0 then log_alpha end) over cycle_walk as log_product
    from recurrence
    window cycle_walk as (partition by position_id order by event_number)
)

select
    *,
    case when beta is not null and log_product is not null then
        exp(log_product) * sum(case when log_product is not null then beta * exp(-log_product) end) over cycle_walk
    end as avg_after_buy
from averaged
window cycle_walk as (partition by position_id order by event_number);

create temp table costed as
select
    *,
    last_value(avg_after_buy ignore nulls) over (partition by position_id order by event_number) as avg_entry_price,
    case
        when side = 'sell' and is_executed and not is_attached_sell
            then (fill_price - avg_entry_price) * (held_before - held_after)
        when side = 'marker' and is_close then (exit_price - avg_entry_price) * held_before
        else 0
    end as realized_pnl
from typed_events
where position_id is not null;

-- R4.2 / R4.3: history reentry items, de-duplicated, matched to reentry-typed orders.
create temp table history_items as
select distinct on (user_id, base_symbol, item_at, qty, level)
    *
from (
    select
        trade_users.trade_key || '#' || item_index as item_key,
        trade_users.user_id,
        trade_users.base_symbol,
        try_cast(item ->> 'time' as timestamptz) as item_at,
        try_cast(item ->> 'qty' as double) as qty,
        try_cast(item ->> 'level' as double) as level,
        try_cast(item ->> 'rsi' as double) as rsi,
        try_cast(item ->> 'price' as double) as decision_close,
        item ->> 'order_id' as ref_order_id,
        trade_users.trade_key,
        item_index
    from (
        select *, unnest(from_json(reentries, '["json"]')) as item,
            generate_subscripts(from_json(reentries, '["json"]'), 1) as item_index
        from trade_users
        where user_id is not null and reentries is not null
    ) as trade_users
)
where item_at is not null
order by user_id, base_symbol, item_at, qty, level, trade_key, item_index;

create temp table reentry_orders as
select
    orders.id, orders.user_id, orders.base_symbol, orders.trade_mode, orders.placed_at, orders.quantity,
    orders.app_order_id, orders.broker_order_id, orders.is_executed, orders.filled_qty, orders.fill_price,
    orders.filled_at, orders.metadata, typed_events.position_id,
    try_cast(coalesce(orders.metadata ->> 'rsi_level', orders.metadata ->> 'reentry_level',
                      orders.metadata ->> 'level') as double) as metadata_level,
    try_cast(coalesce(orders.metadata ->> 'rsi', orders.metadata ->> 'rsi10') as double) as metadata_rsi,
    try_cast(orders.metadata ->> 'price' as double) as metadata_close
from orders
inner join typed_events on typed_events.id = orders.id
where typed_events.entry_type = 'reentry';

create temp table reentry_matches as
with by_id as (
    select reentry_orders.id, history_items.item_key
    from reentry_orders
    inner join history_items
        on history_items.user_id = reentry_orders.user_id and history_items.base_symbol = reentry_orders.base_symbol
        and history_items.ref_order_id in (reentry_orders.app_order_id, reentry_orders.broker_order_id)
    qualify row_number() over (partition by reentry_orders.id order by history_items.item_key) = 1
        and row_number() over (partition by history_items.item_key order by reentry_orders.id) = 1
),

by_time as (
    select
        reentry_orders.id,
        history_items.item_key,
        abs(epoch(history_items.item_at) - epoch(reentry_orders.placed_at)) as distance,
        history_items.qty is distinct from reentry_orders.quantity as qty_differs
    from reentry_orders
    inner join history_items
        on history_items.user_id = reentry_orders.user_id and history_items.base_symbol = reentry_orders.base_symbol
        and history_items.item_at between reentry_orders.placed_at - interval 15 minute
        and reentry_orders.placed_at + interval 15 minute
    where reentry_orders.id not in (select id from by_id)
        and history_items.item_key not in (select item_key from by_id)
    qualify row_number() over (partition by reentry_orders.id order by distance, qty_differs, history_items.item_key) = 1
        and row_number() over (partition by history_items.item_key order by distance, qty_differs, reentry_orders.id) = 1
)

select id, item_key, 'order_id' as match_method from by_id
union all
select id, item_key, 'time' from by_time;

-- The four marts.
create table fct_orders as
select
    orders.id as order_id, orders.user_id, orders.base_symbol, orders.trade_mode, orders.side, orders.status,
    typed_events.entry_type, orders.recorded_entry_type, typed_events.position_id,
    typed_events.cycle_number,
    first_value(case when typed_events.is_opening then orders.id end ignore nulls) over (
        partition by typed_events.position_id order by typed_events.event_number
        rows between unbounded preceding and unbounded following) as parent_order_id,
    orders.quantity, orders.filled_qty, orders.fill_price,
    case when orders.side = 'sell' and orders.is_executed then orders.filled_qty - (typed_events.held_before - typed_events.held_after) end as oversold_qty,
    orders.is_executed, orders.placed_at, orders.filled_at
from orders
inner join typed_events on typed_events.id = orders.id;

create table fct_reentries as
with detailed as (
    select
        reentry_orders.*,
        reentry_matches.item_key as history_item_key,
        reentry_matches.match_method,
        coalesce(reentry_orders.metadata_level, history_items.level) as level,
        coalesce(reentry_orders.metadata_rsi, history_items.rsi) as rsi,
        coalesce(reentry_orders.metadata_close, history_items.decision_close) as decision_close
    from reentry_orders
    left join reentry_matches on reentry_matches.id = reentry_orders.id
    left join history_items on history_items.item_key = reentry_matches.item_key
)

select
    id as order_id, user_id, base_symbol, trade_mode, position_id, history_item_key, match_method,
    row_number() over (partition by position_id order by filled_at, id) as reentry_number,
    level, rsi, decision_close, filled_qty, fill_price, placed_at, filled_at, is_executed
from detailed
where is_executed;

create table fct_positions as
with cycle_events as (
    select
        position_id,
        any_value(user_id) as user_id,
        any_value(base_symbol) as base_symbol,
        any_value(trade_mode) as trade_mode,
        any_value(cycle_number) as cycle_number,
        arg_min(fill_price, event_number) filter (where is_opening) as initial_entry_price,
        arg_min(filled_qty, event_number) filter (where is_opening) as initial_qty,
        min(event_at) filter (where is_opening) as opened_at,
        count(*) filter (where entry_type = 'reentry' and is_executed) as reentry_count,
        coalesce(sum(filled_qty) filter (where entry_type = 'reentry' and is_executed), 0) as total_reentry_qty,
        sum(filled_qty * fill_price) filter (where entry_type = 'reentry' and is_executed and fill_price is not null)
            / sum(filled_qty) filter (where entry_type = 'reentry' and is_executed and fill_price is not null)
            as avg_reentry_price,
        arg_max(fill_price, event_number) filter (where entry_type = 'reentry' and is_executed and fill_price is not null)
            as last_reentry_price,
        sum(filled_qty) filter (where side = 'buy' and is_executed) as total_bought_qty,
        arg_max(avg_entry_price, event_number) as avg_entry_price,
        sum(realized_pnl) as realized_pnl,
        max(event_at) filter (where is_close) as closed_at,
        arg_max(case when side = 'marker' then 'trade_history' else 'sell' end, event_number) filter (where is_close)
            as close_source
    from costed
    group by position_id
),

levels as (
    select position_id, min(level) as max_level_reached from fct_reentries group by position_id
)

select
    cycle_events.position_id, user_id, base_symbol, trade_mode, cycle_number,
    initial_entry_price, initial_qty, opened_at, reentry_count, total_reentry_qty, avg_reentry_price,
    last_reentry_price, (avg_reentry_price / initial_entry_price - 1) * 100 as reentry_discount_pct,
    avg_entry_price, realized_pnl,
    realized_pnl / (avg_entry_price * total_bought_qty) * 100 as realized_pnl_pct,
    case when closed_at is null then 'open' else 'closed' end as status,
    closed_at, close_source,
    date_diff('day', opened_at::date, coalesce(closed_at, current_timestamp)::date) as holding_days,
    levels.max_level_reached
from cycle_events
left join levels on levels.position_id = cycle_events.position_id;

-- R7: the daily cap, over every reentry-typed order by the India date of placed_at.
create table fct_daily_reentries as
with levelled as (
    select
        reentry_orders.*,
        coalesce(reentry_orders.metadata_level, history_items.level) as level
    from reentry_orders
    left join reentry_matches on reentry_matches.id = reentry_orders.id
    left join history_items on history_items.item_key = reentry_matches.item_key
)

select
    user_id, base_symbol, trade_mode, placed_at::date as trade_date,
    count(*) filter (where is_executed) as executed_reentries,
    count(*) as attempted_reentries,
    count(distinct level) filter (where is_executed) as distinct_levels,
    count(*) filter (where is_executed) > 1 as is_over_cap,
    count(level) filter (where is_executed) > count(distinct level) filter (where is_executed) as has_repeated_level
from levelled
group by all;
