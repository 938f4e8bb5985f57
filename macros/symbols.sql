{#- R1.1: base symbol of a broker symbol or ticker. Upper-case and trim, drop a
    trailing .NS / .BO, then drop one trailing -<series> when the series is in
    var series_suffixes. Splitting at the first '-' would be wrong
    (BAJAJ-AUTO-EQ -> BAJAJ-AUTO, not BAJAJ). regexp_replace with an anchored
    pattern behaves the same on DuckDB, PostgreSQL and Spark. -#}
{% macro base_symbol(column) -%}
    {%- set series = var('series_suffixes') | join('|') -%}
    regexp_replace(
        regexp_replace(upper(trim({{ column }})), '\.(NS|BO)$', ''),
        '-({{ series }})$',
        ''
    )
{%- endmacro %}
