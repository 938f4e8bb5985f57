{#- Generic test: no two rows of the model share the same values in all of
    `combination_of_columns` (a composite grain). NULLs group together, as in
    SQL GROUP BY, so two rows that are NULL in the same key column and equal in
    the others count as duplicates; pair it with not_null on each key column.
    Returns one row per duplicated combination, with how many rows share it.
    Works with `config: where:` (dbt filters `model` before the test). -#}
{% test unique_combination(model, combination_of_columns) %}

{%- set key_columns = combination_of_columns | join(', ') %}

with grouped as (

    select
        {{ key_columns }},
        count(*) as n_records
    from {{ model }}
    group by {{ key_columns }}

),

duplicated as (

    select * from grouped
    where n_records > 1

)

select * from duplicated

{% endtest %}
