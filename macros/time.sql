{#- Time (R1.7): source timestamp text to instants, the India calendar date,
    durations, the naive-UTC window of R6, the instant type. Documented in
    macros/_macros.yml. -#}

{#- R6 timestamp spellings: the ISO 8601 forms exports carry, rewritten to one
    canonical text `YYYY-MM-DD[ HH:MM[:SS[.ffffff]][+HH:MM]]` that every
    engine's cast reads the same way: `T` or `t` or a space between date and
    time, a decimal comma, fractional seconds of any length (cut to
    microseconds), `Z` / `UTC` / `GMT`, `+05:30`, `+0530`, `+05`, with or
    without a space before the offset; a time without seconds gets `:00`. -#}
{% macro canonical_instant_text(column) -%}
    {%- set text = 'trim(' ~ column ~ ')' -%}
    {%- set text = regex_replace_all(text, '^([0-9]{4}-[0-9]{2}-[0-9]{2})[Tt ]([0-9]{2}:)', '\\1 \\2') -%}
    {%- set text = regex_replace_all(text, '(:[0-9]{2}),([0-9])', '\\1.\\2') -%}
    {%- set text = regex_replace_all(text, '([.][0-9]{6})[0-9]+', '\\1') -%}
    {%- set text = regex_replace_all(text, '(:[0-9]{2}([.][0-9]+)?) ?([zZ]|UTC|GMT)$', '\\1+00:00') -%}
    {%- set text = regex_replace_all(text, '(:[0-9]{2}([.][0-9]+)?) ([+-][0-9])', '\\1\\3') -%}
    {%- set text = regex_replace_all(text, '(:[0-9]{2}([.][0-9]+)?[+-][0-9]{2})([0-9]{2})$', '\\1:\\3') -%}
    {%- set text = regex_replace_all(text, '(:[0-9]{2}([.][0-9]+)?[+-][0-9]{2})$', '\\1:00') -%}
    {#- a time without seconds gets :00 (Spark's cast reads HH:MM:SS only) -#}
    {%- set text = regex_replace_all(text, '^([0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2})([+-][0-9]{2}:[0-9]{2})?$', '\\1:00\\2') -%}
    {{- text -}}
{%- endmacro %}

{#- The canonical forms: a date, or a date and time, with an optional offset. -#}
{% macro canonical_instant_pattern() -%}
    ^[0-9]{4}-[0-9]{2}-[0-9]{2}( [0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]{1,6})?)?([+-][0-9]{2}:[0-9]{2})?)?$
{%- endmacro %}

{#- The end of a canonical instant text that carries an offset (`+05:30`). -#}
{% macro instant_offset_pattern() -%}
    :[0-9]{2}([.][0-9]+)?[+-][0-9]{2}:[0-9]{2}$
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
        when not {{ regex_matches(text, canonical_instant_pattern()) }} then null
        when {{ regex_matches(text, instant_offset_pattern()) }}
            then try_cast({{ text }} as timestamptz)
        when {{ naive_is_utc }}
            then timezone('UTC', try_cast({{ text }} as timestamp))
        else timezone('{{ var("market_time_zone") }}', try_cast({{ text }} as timestamp))
    end
{%- endmacro %}

{% macro postgres__parse_instant(column, naive_is_utc) -%}
    {%- set text = canonical_instant_text(column) -%}
    case
        when not {{ regex_matches(text, canonical_instant_pattern()) }} then null
        when {{ regex_matches(text, instant_offset_pattern()) }}
            then {{ target.schema }}.try_timestamptz({{ text }})
        when {{ naive_is_utc }}
            then {{ target.schema }}.try_timestamp({{ text }}) at time zone 'UTC'
        else {{ target.schema }}.try_timestamp({{ text }}) at time zone '{{ var("market_time_zone") }}'
    end
{%- endmacro %}

{#- Spark's TIMESTAMP is an instant; the session time zone is UTC (profiles.yml),
    so a naive text cast reads as UTC wall clock and to_utc_timestamp moves it
    from the market's wall clock to the instant. -#}
{#- The canonical text is computed once per value and bound to a lambda argument
    (`transform` of a one-element array): written out in each branch, as on the
    other engines, Spark's plan carried the nine nested regexp_replace five times
    per column, 25 times per order row. -#}
{% macro spark__parse_instant(column, naive_is_utc) -%}
    element_at(transform(array({{ canonical_instant_text(column) }}), instant_text ->
    case
        when not {{ regex_matches('instant_text', canonical_instant_pattern()) }} then null
        when {{ regex_matches('instant_text', instant_offset_pattern()) }}
            then try_cast(instant_text as timestamp)
        when {{ naive_is_utc }}
            then try_cast(try_cast(instant_text as timestamp_ntz) as timestamp)
        else to_utc_timestamp(try_cast(try_cast(instant_text as timestamp_ntz) as timestamp), '{{ var("market_time_zone") }}')
    end), 1)
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
