{#-
    Engine-specific SQL lives here and only here: one dispatched macro per
    operation, with a duckdb__ version and, where the syntax differs, a
    postgres__ version. Models call the macro, never the engine's syntax.
-#}

{#- Text value of a top-level key of a JSON text column; NULL when the text is not valid JSON. -#}
{% macro json_text(column, key) -%}
    {{ return(adapter.dispatch('json_text', 'trading_warehouse')(column, key)) }}
{%- endmacro %}

{% macro duckdb__json_text(column, key) -%}
    case when json_valid({{ column }}) then json_extract_string({{ column }}, '$.{{ key }}') end
{%- endmacro %}

{#- True when a JSON text column is NULL or holds valid JSON. -#}
{% macro is_valid_json(column) -%}
    {{ return(adapter.dispatch('is_valid_json', 'trading_warehouse')(column)) }}
{%- endmacro %}

{% macro duckdb__is_valid_json(column) -%}
    ({{ column }} is null or json_valid({{ column }}))
{%- endmacro %}

{#- Text to a number; NULL when it is not one. -#}
{% macro to_number(column) -%}
    {{ return(adapter.dispatch('to_number', 'trading_warehouse')(column)) }}
{%- endmacro %}

{% macro duckdb__to_number(column) -%}
    try_cast(trim({{ column }}) as double)
{%- endmacro %}

{#- Text to an exact quantity (shares); NULL when it is not a number. Exact
    decimals keep the R2 running sums free of float residue. -#}
{% macro to_quantity(column) -%}
    {{ return(adapter.dispatch('to_quantity', 'trading_warehouse')(column)) }}
{%- endmacro %}

{% macro duckdb__to_quantity(column) -%}
    try_cast(trim({{ column }}) as decimal(18, 4))
{%- endmacro %}

{#- Text to an integer id; NULL when it is not one. -#}
{% macro to_bigint(column) -%}
    {{ return(adapter.dispatch('to_bigint', 'trading_warehouse')(column)) }}
{%- endmacro %}

{% macro duckdb__to_bigint(column) -%}
    try_cast(trim({{ column }}) as bigint)
{%- endmacro %}

{#- R1.7: source timestamp text to an instant (timestamp with time zone).
    Values with an offset (Z, +05:30) mean what they say; naive values are
    wall-clock time in var market_time_zone, or UTC where naive_is_utc holds
    (the R6 naive-UTC window). Unparseable text gives NULL. -#}
{% macro parse_instant(column, naive_is_utc='false') -%}
    {{ return(adapter.dispatch('parse_instant', 'trading_warehouse')(column, naive_is_utc)) }}
{%- endmacro %}

{% macro duckdb__parse_instant(column, naive_is_utc) -%}
    case
        when regexp_matches(trim({{ column }}), ':[0-9]{2}(\.[0-9]+)? ?([zZ]|[+-][0-9]{2}(:?[0-9]{2})?)$')
            then try_cast(trim({{ column }}) as timestamptz)
        when {{ naive_is_utc }}
            then timezone('UTC', try_cast(trim({{ column }}) as timestamp))
        else timezone('{{ var("market_time_zone") }}', try_cast(trim({{ column }}) as timestamp))
    end
{%- endmacro %}

{#- Naive wall-clock timestamp of a text value (offset ignored), for comparing with the naive-UTC window. -#}
{% macro parse_naive(column) -%}
    {{ return(adapter.dispatch('parse_naive', 'trading_warehouse')(column)) }}
{%- endmacro %}

{% macro duckdb__parse_naive(column) -%}
    try_cast(trim({{ column }}) as timestamp)
{%- endmacro %}

{#- R1.7: the India (market) calendar date of an instant. -#}
{% macro market_date(column) -%}
    {{ return(adapter.dispatch('market_date', 'trading_warehouse')(column)) }}
{%- endmacro %}

{% macro duckdb__market_date(column) -%}
    cast(timezone('{{ var("market_time_zone") }}', {{ column }}) as date)
{%- endmacro %}

{#- Seconds from one instant to another (to minus from), as a number. -#}
{% macro seconds_between(from_instant, to_instant) -%}
    {{ return(adapter.dispatch('seconds_between', 'trading_warehouse')(from_instant, to_instant)) }}
{%- endmacro %}

{% macro duckdb__seconds_between(from_instant, to_instant) -%}
    (epoch({{ to_instant }}) - epoch({{ from_instant }}))
{%- endmacro %}

{#- Whether a text matches a regular expression. -#}
{% macro regex_matches(column, pattern) -%}
    {{ return(adapter.dispatch('regex_matches', 'trading_warehouse')(column, pattern)) }}
{%- endmacro %}

{% macro duckdb__regex_matches(column, pattern) -%}
    regexp_matches({{ column }}, '{{ pattern }}')
{%- endmacro %}

{#- A 64-bit float type (dbt.type_float() is a 4-byte REAL on DuckDB). -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'trading_warehouse')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    double
{%- endmacro %}

{#- Whole days from one date to another (to minus from). -#}
{% macro days_between(from_date, to_date) -%}
    {{ return(adapter.dispatch('days_between', 'trading_warehouse')(from_date, to_date)) }}
{%- endmacro %}

{% macro duckdb__days_between(from_date, to_date) -%}
    date_diff('day', {{ from_date }}, {{ to_date }})
{%- endmacro %}

{#- Length of the JSON array at a path of a JSON text column; NULL when the
    text is not valid JSON or the value there is not an array. -#}
{% macro json_array_length_at(column, path='$') -%}
    {{ return(adapter.dispatch('json_array_length_at', 'trading_warehouse')(column, path)) }}
{%- endmacro %}

{% macro duckdb__json_array_length_at(column, path) -%}
    case
        when json_valid({{ column }}) and json_type({{ column }}, '{{ path }}') = 'ARRAY'
            then json_array_length({{ column }}, '{{ path }}')
    end
{%- endmacro %}

{#- The whole row of a relation alias as JSON text (the raw content of a quarantined row). -#}
{% macro row_as_json(alias) -%}
    {{ return(adapter.dispatch('row_as_json', 'trading_warehouse')(alias)) }}
{%- endmacro %}

{% macro duckdb__row_as_json(alias) -%}
    cast(to_json({{ alias }}) as varchar)
{%- endmacro %}

{#- The type of an instant (timestamp with time zone, R1.7). -#}
{% macro type_instant() -%}
    {{ return(adapter.dispatch('type_instant', 'trading_warehouse')()) }}
{%- endmacro %}

{% macro default__type_instant() -%}
    timestamp with time zone
{%- endmacro %}
