{#- One row per row of the app's fills table (R9.2: newer databases only; a
    folder may hold fills/*.csv exports too), typed, with the reason it cannot
    be used (R6) or NULL. No row is dropped here. The app writes fill times
    with a time-zone-aware India clock, so on PostgreSQL (and in its dumps)
    they are naive UTC; from SQLite or an export, naive India time. -#}
{%- set naive_is_utc = "_source_kind in ('postgresql', 'dump')" %}
with source as (

    select * from {{ source('trading_app', 'fills') }}
    where {{ loaded_since_last_build() }}

),

typed as (

    select
        _source_name as source_name,
        _source_kind as source_kind,
        _source_file as source_file,
        _source_row as source_row,
        _loaded_at as loaded_at,
        {{ to_bigint('id') }} as fill_id,
        {{ to_bigint('order_id') }} as order_id,
        {{ to_bigint('user_id') }} as user_id,
        nullif(trim(broker_fill_id), '') as broker_fill_id,
        {{ to_quantity('quantity') }} as quantity,
        {{ to_number('price') }} as price,
        {{ to_number('charges') }} as charges,
        {{ parse_instant('filled_at', naive_is_utc) }} as filled_at,
        order_id as order_id_text,
        quantity as quantity_text,
        price as price_text,
        charges as charges_text,
        filled_at as filled_at_text,
        {{ to_number('order_id') }} as order_id_number,
        {{ value_shape('filled_at') }} as filled_at_shape,
        {{ row_as_json('source') }} as raw_content
    from source

),

final as (

    select
        source_name,
        source_kind,
        source_file,
        source_row,
        fill_id,
        order_id,
        user_id,
        broker_fill_id,
        case
            when nullif(trim(order_id_text), '') is null then 'missing order_id'
            when order_id is null and order_id_number is not null then 'non-integer order_id'
            when order_id is null then 'non-numeric order_id'
            when quantity is null then 'non-numeric quantity'
            when quantity <= 0 then 'non-positive quantity'
            when price is null then 'non-numeric price'
            when price <= 0 then 'non-positive price'
            when nullif(trim(charges_text), '') is not null and charges is null then 'non-numeric charges'
            when nullif(trim(filled_at_text), '') is null then 'missing filled_at'
            when filled_at is null then 'unparseable filled_at (' || filled_at_shape || ')'
        end as quarantine_reason,
        raw_content,
        quantity,
        price,
        charges,
        filled_at,
        loaded_at
    from typed

)

select * from final
