{#- R1.1: base symbol of a broker symbol or ticker. Upper-case and trim, drop a
    trailing .NS / .BO, then drop one trailing -<series> when the series is in
    var series_suffixes. Splitting at the first '-' would be wrong
    (BAJAJ-AUTO-EQ -> BAJAJ-AUTO, not BAJAJ). regexp_replace with an anchored
    pattern behaves the same on DuckDB, PostgreSQL and Spark.
    R6: an NSE symbol never holds a blank, so every whitespace or invisible
    character (tab, no-break space, zero-width space, BOM) is removed first,
    wherever it is: `TATASTEEL -EQ` and `TATA<ZWSP>STEEL-EQ` are TATASTEEL, not
    a phantom book. -#}
{% macro base_symbol(column) -%}
    {%- set series = var('series_suffixes') | join('|') -%}
    regexp_replace(
        regexp_replace(upper({{ regex_replace_all(column, invisible_or_blank_pattern(), '') }}), '\.(NS|BO)$', ''),
        '-({{ series }})$',
        ''
    )
{%- endmacro %}
