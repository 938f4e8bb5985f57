{#- R6 naive-UTC window: SQL condition that is true when the naive wall-clock
    value of `column` falls in [var naive_utc_from, var naive_utc_until). Rows
    written by the app between those two releases stored naive UTC. With the
    default empty window the condition is the literal false. -#}
{% macro in_naive_utc_window(column) -%}
    {%- set utc_from = var('naive_utc_from') -%}
    {%- set utc_until = var('naive_utc_until') -%}
    {%- if utc_from and utc_until -%}
        ({{ parse_naive(column) }} >= cast('{{ utc_from }}' as timestamp)
        and {{ parse_naive(column) }} < cast('{{ utc_until }}' as timestamp))
    {%- else -%}
        false
    {%- endif -%}
{%- endmacro %}
