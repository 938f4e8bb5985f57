{#- Nightly incremental builds (issue 4). The unit of recomputation is a
    (user_id, base_symbol) pair: every model downstream of the cycle walk
    depends only on the orders, history markers, history items and
    positions-table markers of that pair (reentry items are matched across
    the trade modes of a pair). int_book_fingerprints records a fingerprint of
    each pair's inputs; a run recomputes exactly the pairs whose fingerprint
    changed and replaces their rows (delete+insert on the pair). -#}

{#- Incremental where the engine supports delete+insert, a plain table elsewhere
    (Spark's Parquet tables have no delete). -#}
{% macro pair_incremental_materialization() -%}
    {{- return(adapter.dispatch('pair_incremental_materialization', 'trading_warehouse')()) -}}
{%- endmacro %}

{% macro default__pair_incremental_materialization() -%}
    {{- return('incremental') -}}
{%- endmacro %}

{% macro spark__pair_incremental_materialization() -%}
    {{- return('table') -}}
{%- endmacro %}

{#- SQL condition restricting the rows of a single-relation select (columns
    user_id, base_symbol) to the pairs whose inputs changed in this run; always
    true on a full build. -#}
{% macro changed_pairs_only() -%}
    {%- if is_incremental() -%}
        (user_id, base_symbol) in (
            select changed.user_id, changed.base_symbol
            from {{ ref('int_book_fingerprints') }} as changed
            where changed.fingerprinted_at = cast('{{ run_started_at.isoformat() }}' as {{ type_instant() }})
        )
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- A 64-bit hash of a text value, summed into fingerprints. -#}
{% macro fingerprint_hash(expression) -%}
    {{ return(adapter.dispatch('fingerprint_hash', 'trading_warehouse')(expression)) }}
{%- endmacro %}

{#- Fingerprints are compared only within one engine, so each may hash its own way. -#}
{% macro duckdb__fingerprint_hash(expression) -%}
    cast(hash({{ expression }}) % 1000000007 as {{ dbt.type_bigint() }})
{%- endmacro %}

{% macro postgres__fingerprint_hash(expression) -%}
    (cast(('x' || substr(md5({{ expression }}), 1, 15))::bit(60) as bigint) % 1000000007)
{%- endmacro %}

{% macro spark__fingerprint_hash(expression) -%}
    cast(pmod(xxhash64({{ expression }}), 1000000007) as bigint)
{%- endmacro %}

{#- on-run-end (dbt_project.yml): commit the fingerprints of int_book_fingerprints
    once the models they describe are up to date. Only when this run built
    int_book_fingerprints and every model that reads it (the pair models, via
    changed_pairs_only) succeeded; after a failure, a skip, a partial
    selection or a kill (no hook at all) the new fingerprints stay
    uncommitted and the next run recomputes their pairs. Not on Spark (plain
    tables, every run recomputes everything). -#}
{% macro commit_pair_fingerprints(results) -%}
    {{- return(adapter.dispatch('commit_pair_fingerprints', 'trading_warehouse')(results)) -}}
{%- endmacro %}

{#- Spark builds plain tables: every run recomputes everything, nothing to commit. -#}
{% macro spark__commit_pair_fingerprints(results) -%}
    {{- return('') -}}
{%- endmacro %}

{% macro default__commit_pair_fingerprints(results) -%}
    {%- if not execute -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set fingerprints = graph.nodes.values() | selectattr('resource_type', 'equalto', 'model')
        | selectattr('name', 'equalto', 'int_book_fingerprints') | list | first -%}
    {%- set statuses = {} -%}
    {%- for result in results -%}
        {%- do statuses.update({result.node.unique_id: result.status | string}) -%}
    {%- endfor -%}
    {%- set required = [fingerprints.unique_id] -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type == 'model' and fingerprints.unique_id in node.depends_on.nodes -%}
            {%- do required.append(node.unique_id) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for unique_id in required -%}
        {%- if statuses.get(unique_id) not in ['success', 'RunStatus.Success'] -%}
            {{- return('') -}}
        {%- endif -%}
    {%- endfor -%}
    {%- set relation = adapter.get_relation(database=fingerprints.database, schema=fingerprints.schema,
        identifier=fingerprints.alias) -%}
    {%- if relation is none -%}
        {{- return('') -}}
    {%- endif -%}
    update {{ relation }} set committed_fingerprint = fingerprint
    where committed_fingerprint is null or committed_fingerprint <> fingerprint
{%- endmacro %}
