{#- A deterministic key of a row: the md5 (dbt.hash) of its key columns cast
    to text and joined with '|'. The same values give the same key on every
    run and every engine (R2 position_id, the daily marts' ids). Values are
    never NULL where it is used (grain columns). -#}
{% macro surrogate_key(columns) -%}
    {%- set parts = [] -%}
    {%- for column in columns -%}
        {%- if not loop.first %}{% do parts.append("'|'") %}{% endif -%}
        {%- do parts.append("cast(" ~ column ~ " as " ~ dbt.type_string() ~ ")") -%}
    {%- endfor -%}
    {{ dbt.hash(dbt.concat(parts)) }}
{%- endmacro %}

{#- A hash of a row's content: the listed columns, NULL kept apart from any
    value (a NULL and an empty text hash differently). -#}
{% macro version_hash(columns) -%}
    {%- set parts = [] -%}
    {%- for column in columns -%}
        {%- if not loop.first %}{% do parts.append("'|'") %}{% endif -%}
        {%- do parts.append("coalesce('=' || cast(" ~ column ~ " as " ~ dbt.type_string() ~ "), '~')") -%}
    {%- endfor -%}
    {{ dbt.hash(dbt.concat(parts)) }}
{%- endmacro %}
