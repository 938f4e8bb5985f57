{{ config(
    materialized=pair_incremental_materialization(),
    incremental_strategy='delete+insert',
    unique_key='order_id'
) }}
{#- R1.8: one row per app order id, its newest valid version: greatest
    updated_at (a version with one beats a version without), then the later
    file name within orders/, then the later row of the file. Quarantined rows
    do not compete, so a broken newer version never hides a good older one.

    Incremental: a run re-ranks every valid version of the order ids that have
    a row loaded after the last run's watermark (processed_through), so a late
    update to an old order (pending -> closed) replaces its row. -#}
with orders as (

    select * from {{ ref('stg_trading_app__orders') }}

),

watermark as (

    select max(loaded_at) as processed_through from orders

),

{%- if is_incremental() %}

changed_ids as (

    select distinct orders.order_id
    from orders
    where
        orders.quarantine_reason is null
        and orders.loaded_at > (
            select coalesce(max(previous.processed_through), cast('1900-01-01 00:00:00+00' as {{ type_instant() }}))
            from {{ this }} as previous
        )

),
{%- endif %}

valid as (

    select
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
        loaded_at
    from orders
    where quarantine_reason is null
    {%- if is_incremental() %}
        and order_id in (select changed_ids.order_id from changed_ids)
    {%- endif %}

),

ranked as (

    select
        *,
        count(*) over (partition by order_id) as version_count,
        row_number() over (
            partition by order_id
            order by updated_at desc nulls last, source_file desc, source_row desc
        ) as version_rank
    from valid

),

final as (

    select
        ranked.*,
        watermark.processed_through
    from ranked
    cross join watermark
    where ranked.version_rank = 1

)

select * from final
