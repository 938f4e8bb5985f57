{#- JSON operations on text columns (the raw values are text). Engine-specific
    SQL lives only in dispatched macros like these: a duckdb__, postgres__ and
    spark__ version each, or default__ where engines agree; models call the
    macro, never the engine's syntax. Documented in macros/_macros.yml. -#}

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

{#- PostgreSQL 15 has no IS JSON: try_jsonb() (on-run-start, engine_setup) is NULL on invalid JSON. -#}
{% macro postgres__json_text(column, key) -%}
    ({{ target.schema }}.try_jsonb({{ column }}) ->> '{{ key }}')
{%- endmacro %}

{#- Spark: try_parse_json() is NULL on invalid JSON (strict, unlike get_json_object). -#}
{% macro spark__json_text(column, key) -%}
    try_variant_get(try_parse_json({{ column }}), '$.{{ key }}', 'string')
{%- endmacro %}

{#- True when a JSON text column is NULL or holds valid JSON. -#}
{% macro is_valid_json(column) -%}
    {{ return(adapter.dispatch('is_valid_json', 'trading_warehouse')(column)) }}
{%- endmacro %}

{% macro duckdb__is_valid_json(column) -%}
    ({{ column }} is null or json_valid({{ column }}))
{%- endmacro %}

{% macro postgres__is_valid_json(column) -%}
    ({{ column }} is null or {{ target.schema }}.try_jsonb({{ column }}) is not null)
{%- endmacro %}

{% macro spark__is_valid_json(column) -%}
    ({{ column }} is null or try_parse_json({{ column }}) is not null)
{%- endmacro %}

{#- Length of the JSON array at a path of a JSON text column; NULL when the
    text is not valid JSON or the value there is not an array. -#}
{% macro json_array_length_at(column, path='$') -%}
    {{ return(adapter.dispatch('json_array_length_at', 'trading_warehouse')(column, path)) }}
{%- endmacro %}

{% macro duckdb__json_array_length_at(column, path) -%}
    case
        when json_valid({{ column }}) and json_type({{ column }}, '{{ path }}') = 'ARRAY'
            then cast(json_array_length({{ column }}, '{{ path }}') as bigint)
    end
{%- endmacro %}

{% macro postgres__json_array_length_at(column, path) -%}
    {%- set keys = path[1:].split('.') | reject('equalto', '') | list -%}
    {%- set value = target.schema ~ ".try_jsonb(" ~ column ~ ") #> '{" ~ (keys | join(',')) ~ "}'" -%}
    case when jsonb_typeof({{ value }}) = 'array' then cast(jsonb_array_length({{ value }}) as bigint) end
{%- endmacro %}

{% macro spark__json_array_length_at(column, path) -%}
    cast(array_size(try_variant_get(try_parse_json({{ column }}), '{{ path }}', 'array<variant>')) as bigint)
{%- endmacro %}

{#- The whole row of a relation alias as JSON text (the raw content of a quarantined row). -#}
{% macro row_as_json(alias) -%}
    {{ return(adapter.dispatch('row_as_json', 'trading_warehouse')(alias)) }}
{%- endmacro %}

{% macro duckdb__row_as_json(alias) -%}
    cast(to_json({{ alias }}) as varchar)
{%- endmacro %}

{% macro postgres__row_as_json(alias) -%}
    cast(row_to_json({{ alias }}) as text)
{%- endmacro %}

{% macro spark__row_as_json(alias) -%}
    to_json(struct({{ alias }}.*))
{%- endmacro %}
