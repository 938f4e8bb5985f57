{#- An expression as a quantity (the type to_quantity gives): decimal(18, 4) on
    DuckDB and Spark; on PostgreSQL numeric with its own scale (trim_scale), so
    10 stays 10 as the unit tests' expected rows spell it (R9.2 fill sums). -#}
{% macro as_quantity(expression) -%}
    {{ return(adapter.dispatch('as_quantity', 'trading_warehouse')(expression)) }}
{%- endmacro %}

{% macro default__as_quantity(expression) -%}
    cast({{ expression }} as decimal(18, 4))
{%- endmacro %}

{% macro postgres__as_quantity(expression) -%}
    trim_scale(cast({{ expression }} as numeric))
{%- endmacro %}
