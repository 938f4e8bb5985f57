{#- Numbers and numeric types: safe casts of text (NULL, never an error, on a
    value that is not a number: R6 turns it into a quarantine reason) and the
    double type. Documented in macros/_macros.yml. -#}

{#- Text to a number; NULL when it is not one, and NULL for NaN and the
    infinities (text 'NaN', 'inf', or an overflow like 1e400): a value the
    '> 0' tests would let through and that turns every average into NaN. -#}
{% macro to_number(column) -%}
    {{ return(adapter.dispatch('to_number', 'trading_warehouse')(column)) }}
{%- endmacro %}

{% macro duckdb__to_number(column) -%}
    case when isfinite(try_cast(trim({{ column }}) as double)) then try_cast(trim({{ column }}) as double) end
{%- endmacro %}

{#- The try_* functions of engine_setup accept what DuckDB's try_cast accepts
    (the common forms) and give NULL, not an error, on anything else; the
    number pattern admits no NaN or inf, an overflow fails the cast. -#}
{% macro postgres__to_number(column) -%}
    {{ target.schema }}.try_double({{ column }})
{%- endmacro %}

{% macro spark__to_number(column) -%}
    case
        when not isnan(try_cast(trim({{ column }}) as double))
            and abs(try_cast(trim({{ column }}) as double)) < cast('Infinity' as double)
            then try_cast(trim({{ column }}) as double)
    end
{%- endmacro %}

{#- Text to an exact quantity (shares); NULL when it is not a number. Exact
    decimals keep the R2 running sums free of float residue. -#}
{% macro to_quantity(column) -%}
    {{ return(adapter.dispatch('to_quantity', 'trading_warehouse')(column)) }}
{%- endmacro %}

{% macro default__to_quantity(column) -%}
    try_cast(trim({{ column }}) as decimal(18, 4))
{%- endmacro %}

{#- trim_scale: numeric values keep their own scale on PostgreSQL; 10, not
    10.0000, like the expected rows of the unit tests. -#}
{% macro postgres__to_quantity(column) -%}
    trim_scale({{ target.schema }}.try_numeric({{ column }}))
{%- endmacro %}

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

{#- Text to an integer id; NULL when it is not one. A fractional value
    (3174.4) is not an id: rounding it would make it another order's or
    another user's. An integral decimal (3174.0, as a float column writes it)
    is accepted. -#}
{% macro to_bigint(column) -%}
    case
        when {{ regex_matches('trim(' ~ column ~ ')', integer_text_pattern()) }}
            then {{ adapter.dispatch('integer_text_to_bigint', 'trading_warehouse')(column) }}
    end
{%- endmacro %}

{#- The text of an integer, optionally written with a zero fraction (3174.0). -#}
{% macro integer_text_pattern() -%}
    ^[+-]?[0-9]+([.]0*)?$
{%- endmacro %}

{#- The cast of a text that integer_text_pattern() admits. -#}
{% macro default__integer_text_to_bigint(column) -%}
    try_cast(trim({{ column }}) as bigint)
{%- endmacro %}

{% macro postgres__integer_text_to_bigint(column) -%}
    {{ target.schema }}.try_bigint({{ column }})
{%- endmacro %}

{% macro spark__integer_text_to_bigint(column) -%}
    cast(try_cast(trim({{ column }}) as decimal(38, 4)) as bigint)
{%- endmacro %}

{#- A 64-bit float type (dbt.type_float() is a 4-byte REAL on DuckDB). -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'trading_warehouse')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    double
{%- endmacro %}

{% macro postgres__type_double() -%}
    double precision
{%- endmacro %}
