{#- R1.8: one row per app order (source_name, order_id: R9.1, the same id in
    two sources is two orders), its newest valid version: greatest
    updated_at (a version with one beats a version without), then the later
    file name within orders/, then the later row of the file. Quarantined rows
    do not compete, so a broken newer version never hides a good older one.

    R9.2: the order's valid fills give fill_count; where the order has no
    execution_qty > 0, its filled quantity is their summed quantity, its fill
    price their VWAP and its fill time the latest fill (R1.3-R1.5 otherwise).

    A version is a distinct content (version_hash over every staged column
    but the row's provenance): an export that repeats a version already
    loaded (a full dump of the orders table) adds no version. The winning
    version's source_file and source_row are those of the first row that
    delivered it (earliest file name, then row), so a repeat does not move
    them and the order's book is not recomputed for it.

    Incremental: a run re-ranks every valid version of the orders that have
    a row (or a fill) loaded after the last run's watermark (processed_through),
    so a late update to an old order (pending -> closed) replaces its row. -#}
{%- set version_columns = [
    'order_id', 'user_id', 'broker_order_ref', 'broker_order_id', 'symbol', 'base_symbol', 'side', 'order_type',
    'status_raw', 'status', 'trade_mode', 'orig_source', 'recorded_entry_type', 'reason', 'metadata',
    'quantity', 'price', 'avg_price', 'execution_qty', 'execution_price', 'filled_qty', 'fill_price',
    'metadata_reentry_level', 'metadata_reentry_rsi', 'metadata_decision_close', 'is_executed', 'is_manual',
    'placed_at', 'updated_at', 'filled_at', 'closed_at'] -%}
with orders as (

    select * from {{ ref('stg_trading_app__orders') }}

),

fills as (

    select * from {{ ref('stg_trading_app__fills') }}
    where quarantine_reason is null

),

watermark as (

    select max(loaded_at) as processed_through
    from (
        select loaded_at from orders
        union all
        select loaded_at from fills
    ) as loads

),

fills_per_order as (

    select
        source_name,
        order_id,
        count(*) as fill_count,
        {{ as_quantity('sum(quantity)') }} as fills_qty,
        sum(cast(quantity as {{ type_double() }}) * price) / sum(cast(quantity as {{ type_double() }})) as fills_vwap,
        sum(coalesce(charges, 0)) as fills_charges,
        max(filled_at) as last_filled_at,
        max(loaded_at) as fills_loaded_at
    from fills
    group by source_name, order_id

),

{%- if is_incremental() %}

changed_ids as (

    select distinct
        orders.source_name,
        orders.order_id
    from orders
    left join fills_per_order
        on
            orders.source_name = fills_per_order.source_name
            and orders.order_id = fills_per_order.order_id
    where
        orders.quarantine_reason is null
        and greatest(orders.loaded_at, coalesce(fills_per_order.fills_loaded_at, orders.loaded_at)) > (
            select coalesce(max(previous.processed_through), cast('1900-01-01 00:00:00+00' as {{ type_instant() }}))
            from {{ this }} as previous
        )

),
{%- endif %}

valid as (

    select
        source_name,
        source_kind,
        source_file,
        source_row,
        order_id,
        user_id,
        broker_order_ref,
        broker_order_id,
        symbol,
        base_symbol,
        side,
        order_type,
        status_raw,
        status,
        trade_mode,
        orig_source,
        recorded_entry_type,
        reason,
        metadata,
        quantity,
        price,
        avg_price,
        execution_qty,
        execution_price,
        filled_qty,
        fill_price,
        metadata_reentry_level,
        metadata_reentry_rsi,
        metadata_decision_close,
        is_executed,
        is_manual,
        placed_at,
        updated_at,
        filled_at,
        closed_at,
        loaded_at,
        {{ version_hash(version_columns) }} as version_hash
    from orders
    where quarantine_reason is null
    {%- if is_incremental() %}
        and (source_name, order_id) in (select changed_ids.source_name, changed_ids.order_id from changed_ids)
    {%- endif %}

),

ranked as (

    select
        *,
        row_number() over (
            partition by source_name, order_id
            order by updated_at desc nulls last, source_file desc, source_row desc
        ) as version_rank,
        row_number() over (
            partition by source_name, order_id, version_hash
            order by source_file, source_row
        ) as holder_rank
    from valid

),

first_holders as (

    select
        source_name,
        order_id,
        version_hash,
        source_file,
        source_row,
        loaded_at
    from ranked
    where holder_rank = 1

),

version_counts as (

    select
        source_name,
        order_id,
        count(distinct version_hash) as version_count
    from valid
    group by source_name, order_id

),

newest as (

    select
        ranked.source_name,
        ranked.source_kind,
        {%- for column in version_columns %}
        ranked.{{ column }},
        {%- endfor %}
        ranked.version_hash,
        ranked.version_rank,
        first_holders.source_file,
        first_holders.source_row,
        first_holders.loaded_at,
        version_counts.version_count
    from ranked
    inner join first_holders
        on
            ranked.source_name = first_holders.source_name
            and ranked.order_id = first_holders.order_id
            and ranked.version_hash = first_holders.version_hash
    inner join version_counts
        on
            ranked.source_name = version_counts.source_name
            and ranked.order_id = version_counts.order_id
    where ranked.version_rank = 1

),

with_fills as (

    select
        newest.*,
        coalesce(fills_per_order.fill_count, 0) as fill_count,
        fills_per_order.fills_qty,
        fills_per_order.fills_vwap,
        fills_per_order.fills_charges,
        fills_per_order.last_filled_at,
        -- R9.2: the fills stand in for the order's execution columns only where it has no execution_qty > 0
        coalesce(newest.execution_qty, 0) <= 0 and fills_per_order.fill_count is not null as is_filled_from_fills
    from newest
    left join fills_per_order
        on
            newest.source_name = fills_per_order.source_name
            and newest.order_id = fills_per_order.order_id

),

final as (

    select
        with_fills.source_name,
        with_fills.source_kind,
        with_fills.source_file,
        with_fills.source_row,
        with_fills.order_id,
        with_fills.user_id,
        with_fills.broker_order_ref,
        with_fills.broker_order_id,
        with_fills.symbol,
        with_fills.base_symbol,
        with_fills.side,
        with_fills.order_type,
        with_fills.status_raw,
        with_fills.status,
        with_fills.trade_mode,
        with_fills.orig_source,
        with_fills.recorded_entry_type,
        with_fills.reason,
        with_fills.metadata,
        with_fills.quantity,
        with_fills.price,
        with_fills.avg_price,
        with_fills.execution_qty,
        with_fills.execution_price,
        case when with_fills.is_filled_from_fills then with_fills.fills_qty else with_fills.filled_qty end as filled_qty,
        case
            when with_fills.is_filled_from_fills then with_fills.fills_vwap else with_fills.fill_price
        end as fill_price,
        with_fills.fill_count,
        with_fills.fills_qty,
        with_fills.fills_vwap,
        with_fills.fills_charges,
        with_fills.metadata_reentry_level,
        with_fills.metadata_reentry_rsi,
        with_fills.metadata_decision_close,
        with_fills.is_executed or with_fills.is_filled_from_fills as is_executed,
        with_fills.is_filled_from_fills,
        with_fills.is_manual,
        with_fills.placed_at,
        with_fills.updated_at,
        case
            when with_fills.is_filled_from_fills then with_fills.last_filled_at else with_fills.filled_at
        end as filled_at,
        with_fills.closed_at,
        with_fills.loaded_at,
        with_fills.version_count,
        with_fills.version_hash,
        with_fills.version_rank,
        watermark.processed_through
    from with_fills
    cross join watermark

)

select * from final
{{ only_if_inputs_loaded() }}
