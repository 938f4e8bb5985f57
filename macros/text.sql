{#- Text: regular expressions (one dispatched macro per operation: DuckDB's RE2,
    PostgreSQL's ARE and Java's engine spell them differently), invisible
    characters, and the shape of a value for a quarantine reason. Documented in
    macros/_macros.yml. -#}

{#- Whether a text matches a regular expression. -#}
{% macro regex_matches(column, pattern) -%}
    {{ return(adapter.dispatch('regex_matches', 'trading_warehouse')(column, pattern)) }}
{%- endmacro %}

{% macro duckdb__regex_matches(column, pattern) -%}
    regexp_matches({{ column }}, '{{ pattern }}')
{%- endmacro %}

{% macro postgres__regex_matches(column, pattern) -%}
    ({{ column }} ~ '{{ pattern }}')
{%- endmacro %}

{% macro spark__regex_matches(column, pattern) -%}
    ({{ column }} rlike '{{ pattern }}')
{%- endmacro %}

{#- Every match of a regular expression replaced (replacement backreferences
    written \1, \2 as on DuckDB and PostgreSQL; Spark's $1 is made here). -#}
{% macro regex_replace_all(expression, pattern, replacement) -%}
    {{ return(adapter.dispatch('regex_replace_all', 'trading_warehouse')(expression, pattern, replacement)) }}
{%- endmacro %}

{% macro default__regex_replace_all(expression, pattern, replacement) -%}
    regexp_replace({{ expression }}, '{{ pattern }}', '{{ replacement }}', 'g')
{%- endmacro %}

{% macro spark__regex_replace_all(expression, pattern, replacement) -%}
    regexp_replace({{ expression }}, '{{ pattern }}', '{{ replacement | replace("\\", "$") }}')
{%- endmacro %}

{#- A bracket expression matching one whitespace or invisible character
    (no-break space, zero-width space / joiners, word joiner, BOM): the
    escapes each regex engine reads (RE2, PostgreSQL ARE, Java). -#}
{% macro invisible_or_blank_pattern() -%}
    {{ return(adapter.dispatch('invisible_or_blank_pattern', 'trading_warehouse')()) }}
{%- endmacro %}

{% macro duckdb__invisible_or_blank_pattern() -%}
    [[:space:]\x{00A0}\x{200B}-\x{200D}\x{2060}\x{FEFF}]
{%- endmacro %}

{% macro postgres__invisible_or_blank_pattern() -%}
    [[:space:]\u00A0\u200B-\u200D\u2060\uFEFF]
{%- endmacro %}

{% macro spark__invisible_or_blank_pattern() -%}
    [\s\x{00A0}\x{200B}-\x{200D}\x{2060}\x{FEFF}]
{%- endmacro %}

{#- The shape of a value that could not be read, for a quarantine reason:
    digits become 9, letters a (`03/03/2025 9am` -> `99/99/9999 9aa`),
    the first 40 characters. -#}
{% macro value_shape(column) -%}
    substr({{ regex_replace_all(regex_replace_all('trim(' ~ column ~ ')', '[0-9]', '9'), '[A-Za-z]', 'a') }}, 1, 40)
{%- endmacro %}
