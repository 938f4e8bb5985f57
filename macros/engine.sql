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

{% macro duckdb__to_quantity(column) -%}
    try_cast(trim({{ column }}) as decimal(18, 4))
{%- endmacro %}

{#- trim_scale: numeric values keep their own scale on PostgreSQL; 10, not
    10.0000, like the expected rows of the unit tests. -#}
{% macro postgres__to_quantity(column) -%}
    trim_scale({{ target.schema }}.try_numeric({{ column }}))
{%- endmacro %}

{% macro spark__to_quantity(column) -%}
    try_cast(trim({{ column }}) as decimal(18, 4))
{%- endmacro %}

{#- Text to an integer id; NULL when it is not one. A fractional value
    (3174.4) is not an id: rounding it would make it another order's or
    another user's. An integral decimal (3174.0, as a float column writes it)
    is accepted. -#}
{% macro to_bigint(column) -%}
    {{ return(adapter.dispatch('to_bigint', 'trading_warehouse')(column)) }}
{%- endmacro %}

{% macro duckdb__to_bigint(column) -%}
    case when regexp_matches(trim({{ column }}), '^[+-]?[0-9]+([.]0*)?$') then try_cast(trim({{ column }}) as bigint) end
{%- endmacro %}

{% macro postgres__to_bigint(column) -%}
    case when trim({{ column }}) ~ '^[+-]?[0-9]+([.]0*)?$' then {{ target.schema }}.try_bigint({{ column }}) end
{%- endmacro %}

{% macro spark__to_bigint(column) -%}
    case
        when trim({{ column }}) rlike '^[+-]?[0-9]+([.]0*)?$'
            then cast(try_cast(trim({{ column }}) as decimal(38, 4)) as bigint)
    end
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

{#- R6 timestamp spellings: the ISO 8601 forms exports carry, rewritten to one
    canonical text `YYYY-MM-DD[ HH:MM[:SS[.ffffff]][+HH:MM]]` that every
    engine's cast reads the same way: `T` or `t` or a space between date and
    time, a decimal comma, fractional seconds of any length (cut to
    microseconds), `Z` / `UTC` / `GMT`, `+05:30`, `+0530`, `+05`, with or
    without a space before the offset. -#}
{% macro canonical_instant_text(column) -%}
    {%- set text = 'trim(' ~ column ~ ')' -%}
    {%- set text = regex_replace_all(text, '^([0-9]{4}-[0-9]{2}-[0-9]{2})[Tt ]([0-9]{2}:)', '\\1 \\2') -%}
    {%- set text = regex_replace_all(text, '(:[0-9]{2}),([0-9])', '\\1.\\2') -%}
    {%- set text = regex_replace_all(text, '([.][0-9]{6})[0-9]+', '\\1') -%}
    {%- set text = regex_replace_all(text, '(:[0-9]{2}([.][0-9]+)?) ?([zZ]|UTC|GMT)$', '\\1+00:00') -%}
    {%- set text = regex_replace_all(text, '(:[0-9]{2}([.][0-9]+)?) ([+-][0-9])', '\\1\\3') -%}
    {%- set text = regex_replace_all(text, '(:[0-9]{2}([.][0-9]+)?[+-][0-9]{2})([0-9]{2})$', '\\1:\\3') -%}
    {%- set text = regex_replace_all(text, '(:[0-9]{2}([.][0-9]+)?[+-][0-9]{2})$', '\\1:00') -%}
    {{- text -}}
{%- endmacro %}

{#- The canonical forms: a date, or a date and time, with an optional offset. -#}
{% macro canonical_instant_pattern() -%}
    ^[0-9]{4}-[0-9]{2}-[0-9]{2}( [0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]{1,6})?)?([+-][0-9]{2}:[0-9]{2})?)?$
{%- endmacro %}

{#- The shape of a value that could not be read, for a quarantine reason:
    digits become 9, letters a (`03/03/2025 9am` -> `99/99/9999 9aa`),
    the first 40 characters. -#}
{% macro value_shape(column) -%}
    substr({{ regex_replace_all(regex_replace_all('trim(' ~ column ~ ')', '[0-9]', '9'), '[A-Za-z]', 'a') }}, 1, 40)
{%- endmacro %}

{#- R1.7: source timestamp text to an instant (timestamp with time zone).
    Values with an offset (Z, +05:30) mean what they say; naive values are
    wall-clock time in var market_time_zone, or UTC where naive_is_utc holds
    (the R6 naive-UTC window). Unparseable text gives NULL. -#}
{% macro parse_instant(column, naive_is_utc='false') -%}
    {{ return(adapter.dispatch('parse_instant', 'trading_warehouse')(column, naive_is_utc)) }}
{%- endmacro %}

{% macro duckdb__parse_instant(column, naive_is_utc) -%}
    {%- set text = canonical_instant_text(column) -%}
    case
        when not regexp_matches({{ text }}, '{{ canonical_instant_pattern() }}') then null
        when regexp_matches({{ text }}, ':[0-9]{2}([.][0-9]+)?[+-][0-9]{2}:[0-9]{2}$')
            then try_cast({{ text }} as timestamptz)
        when {{ naive_is_utc }}
            then timezone('UTC', try_cast({{ text }} as timestamp))
        else timezone('{{ var("market_time_zone") }}', try_cast({{ text }} as timestamp))
    end
{%- endmacro %}

{% macro postgres__parse_instant(column, naive_is_utc) -%}
    {%- set text = canonical_instant_text(column) -%}
    case
        when not ({{ text }} ~ '{{ canonical_instant_pattern() }}') then null
        when {{ text }} ~ ':[0-9]{2}([.][0-9]+)?[+-][0-9]{2}:[0-9]{2}$'
            then {{ target.schema }}.try_timestamptz({{ text }})
        when {{ naive_is_utc }}
            then {{ target.schema }}.try_timestamp({{ text }}) at time zone 'UTC'
        else {{ target.schema }}.try_timestamp({{ text }}) at time zone '{{ var("market_time_zone") }}'
    end
{%- endmacro %}

{#- Spark's TIMESTAMP is an instant; the session time zone is UTC (profiles.yml),
    so a naive text cast reads as UTC wall clock and to_utc_timestamp moves it
    from the market's wall clock to the instant. -#}
{% macro spark__parse_instant(column, naive_is_utc) -%}
    {%- set text = canonical_instant_text(column) -%}
    case
        when not ({{ text }} rlike '{{ canonical_instant_pattern() }}') then null
        when {{ text }} rlike ':[0-9]{2}([.][0-9]+)?[+-][0-9]{2}:[0-9]{2}$'
            then try_cast({{ text }} as timestamp)
        when {{ naive_is_utc }}
            then try_cast(try_cast({{ text }} as timestamp_ntz) as timestamp)
        else to_utc_timestamp(try_cast(try_cast({{ text }} as timestamp_ntz) as timestamp), '{{ var("market_time_zone") }}')
    end
{%- endmacro %}

{#- Naive wall-clock timestamp of a text value (offset ignored), for comparing with the naive-UTC window. -#}
{% macro parse_naive(column) -%}
    {{ return(adapter.dispatch('parse_naive', 'trading_warehouse')(column)) }}
{%- endmacro %}

{% macro duckdb__parse_naive(column) -%}
    try_cast({{ canonical_instant_text(column) }} as timestamp)
{%- endmacro %}

{% macro postgres__parse_naive(column) -%}
    {{ target.schema }}.try_timestamp({{ canonical_instant_text(column) }})
{%- endmacro %}

{% macro spark__parse_naive(column) -%}
    try_cast({{ canonical_instant_text(column) }} as timestamp_ntz)
{%- endmacro %}

{#- R1.7: the India (market) calendar date of an instant. -#}
{% macro market_date(column) -%}
    {{ return(adapter.dispatch('market_date', 'trading_warehouse')(column)) }}
{%- endmacro %}

{% macro duckdb__market_date(column) -%}
    cast(timezone('{{ var("market_time_zone") }}', {{ column }}) as date)
{%- endmacro %}

{% macro postgres__market_date(column) -%}
    cast(({{ column }}) at time zone '{{ var("market_time_zone") }}' as date)
{%- endmacro %}

{% macro spark__market_date(column) -%}
    to_date(from_utc_timestamp({{ column }}, '{{ var("market_time_zone") }}'))
{%- endmacro %}

{#- Seconds from one instant to another (to minus from), as a number. -#}
{% macro seconds_between(from_instant, to_instant) -%}
    {{ return(adapter.dispatch('seconds_between', 'trading_warehouse')(from_instant, to_instant)) }}
{%- endmacro %}

{% macro duckdb__seconds_between(from_instant, to_instant) -%}
    (epoch({{ to_instant }}) - epoch({{ from_instant }}))
{%- endmacro %}

{% macro postgres__seconds_between(from_instant, to_instant) -%}
    cast(extract(epoch from {{ to_instant }}) - extract(epoch from {{ from_instant }}) as double precision)
{%- endmacro %}

{% macro spark__seconds_between(from_instant, to_instant) -%}
    (cast(unix_micros({{ to_instant }}) - unix_micros({{ from_instant }}) as double) / 1000000)
{%- endmacro %}

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

{#- Whole days from one date to another (to minus from). -#}
{% macro days_between(from_date, to_date) -%}
    {{ return(adapter.dispatch('days_between', 'trading_warehouse')(from_date, to_date)) }}
{%- endmacro %}

{% macro duckdb__days_between(from_date, to_date) -%}
    date_diff('day', {{ from_date }}, {{ to_date }})
{%- endmacro %}

{% macro postgres__days_between(from_date, to_date) -%}
    cast({{ to_date }} - {{ from_date }} as bigint)
{%- endmacro %}

{% macro spark__days_between(from_date, to_date) -%}
    cast(datediff({{ to_date }}, {{ from_date }}) as bigint)
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

{#- The type of an instant (timestamp with time zone, R1.7). -#}
{% macro type_instant() -%}
    {{ return(adapter.dispatch('type_instant', 'trading_warehouse')()) }}
{%- endmacro %}

{% macro default__type_instant() -%}
    timestamp with time zone
{%- endmacro %}

{#- Spark's TIMESTAMP is an instant (shown in the session time zone). -#}
{% macro spark__type_instant() -%}
    timestamp
{%- endmacro %}

{#- Versions of macros/incremental.sql's fingerprint_hash for the other engines
    (fingerprints are compared only within one engine). -#}
{% macro postgres__fingerprint_hash(expression) -%}
    (cast(('x' || substr(md5({{ expression }}), 1, 15))::bit(60) as bigint) % 1000000007)
{%- endmacro %}

{% macro spark__fingerprint_hash(expression) -%}
    cast(pmod(xxhash64({{ expression }}), 1000000007) as bigint)
{%- endmacro %}

{#- on-run-start (dbt_project.yml): what an engine needs before the models run.
    PostgreSQL: the safe casts the postgres__ macros above call (NULL instead of
    an error, accepting the forms DuckDB's try_cast accepts), in the target
    schema. Spark: the raw tables, read from the Parquet files that
    `scripts/load_raw.py --target spark` exports (env DBT_SPARK_RAW_DIR). -#}
{% macro engine_setup() -%}
    {{ return(adapter.dispatch('engine_setup', 'trading_warehouse')()) }}
{%- endmacro %}

{% macro default__engine_setup() -%}
    {#- nothing to set up: an empty hook is not run -#}
{%- endmacro %}

{% macro postgres__engine_setup() -%}
    {%- set schema = target.schema -%}
    {%- set number = "'^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?$'" -%}
    {%- set instant = "'^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([ T][0-9]{1,2}:[0-9]{1,2}(:[0-9]{1,2}([.][0-9]+)?)?)? ?([zZ]|[+-][0-9]{2}(:?[0-9]{2})?)?$'" -%}
    create schema if not exists {{ schema }};
    create or replace function {{ schema }}.try_jsonb(value text) returns jsonb
    language plpgsql immutable as $$
    begin
        return value::jsonb;
    exception when others then
        return null;
    end $$;
    create or replace function {{ schema }}.try_double(value text) returns double precision
    language plpgsql immutable as $$
    begin
        if trim(value) !~ {{ number }} then
            return null;
        end if;
        return trim(value)::double precision;
    exception when others then
        return null;
    end $$;
    create or replace function {{ schema }}.try_numeric(value text) returns numeric(18, 4)
    language plpgsql immutable as $$
    begin
        if trim(value) !~ {{ number }} then
            return null;
        end if;
        return cast(trim(value)::numeric as numeric(18, 4));
    exception when others then
        return null;
    end $$;
    create or replace function {{ schema }}.try_bigint(value text) returns bigint
    language plpgsql immutable as $$
    begin
        if trim(value) !~ {{ number }} then
            return null;
        end if;
        return round(trim(value)::numeric)::bigint;
    exception when others then
        return null;
    end $$;
    create or replace function {{ schema }}.try_timestamp(value text) returns timestamp
    language plpgsql immutable as $$
    begin
        if trim(value) !~ {{ instant }} then
            return null;
        end if;
        return trim(value)::timestamp;
    exception when others then
        return null;
    end $$;
    create or replace function {{ schema }}.try_timestamptz(value text) returns timestamptz
    language plpgsql stable as $$
    begin
        if trim(value) !~ {{ instant }} then
            return null;
        end if;
        return trim(value)::timestamptz;
    exception when others then
        return null;
    end $$
{%- endmacro %}

{% macro spark__engine_setup() -%}
    {%- if execute -%}
        {%- set raw_dir = env_var('DBT_SPARK_RAW_DIR', '') -%}
        {%- if raw_dir -%}
            {%- do run_query('create database if not exists raw') -%}
            {%- for table in ['orders', 'positions', 'fills', 'history_trades', 'history_reentry_items', 'rejected_lines', 'load_log'] -%}
                {%- do run_query('drop table if exists raw.' ~ table) -%}
                {%- do run_query('create table raw.' ~ table ~ " using parquet location '" ~ raw_dir ~ '/' ~ table ~ "'") -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- on-run-end (dbt_project.yml): dbt's `grants` config grants select on the
    mart relations only; readers also need usage on the marts schema. Only on
    PostgreSQL (DuckDB has no roles, Spark's session catalog no grants). -#}
{% macro grant_marts_usage() -%}
    {{ return(adapter.dispatch('grant_marts_usage', 'trading_warehouse')()) }}
{%- endmacro %}

{% macro default__grant_marts_usage() -%}
    {#- no roles: an empty hook is not run -#}
{%- endmacro %}

{% macro postgres__grant_marts_usage() -%}
    {%- set readers = env_var('DBT_PG_MART_READERS', 'analyst').split(',') | map('trim') | reject('equalto', '') | list -%}
    {%- if readers -%}
        do $$
        begin
            if exists (select 1 from information_schema.schemata where schema_name = 'marts') then
                grant usage on schema marts to {{ readers | join(', ') }};
            end if;
        end $$
    {%- endif -%}
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
