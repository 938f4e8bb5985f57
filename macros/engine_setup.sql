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
