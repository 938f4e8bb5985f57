{#- R6 naive-UTC window: SQL condition that is true when the naive wall-clock
    value of `column` falls in [var naive_utc_from, var naive_utc_until). Rows
    written by the app between those two releases stored naive UTC. With the
    default empty window the condition is the literal false. `prefix` names
    the pair of vars: `naive_utc` (orders, R6) or `positions_naive_utc` (the
    positions table, whose release came later: app-database.md). -#}
{% macro in_naive_utc_window(column, prefix='naive_utc') -%}
    {%- set utc_from = var(prefix ~ '_from') -%}
    {%- set utc_until = var(prefix ~ '_until') -%}
    {%- if utc_from and utc_until -%}
        ({{ parse_naive(column) }} >= cast('{{ utc_from }}' as timestamp)
        and {{ parse_naive(column) }} < cast('{{ utc_until }}' as timestamp))
    {%- else -%}
        false
    {%- endif -%}
{%- endmacro %}
