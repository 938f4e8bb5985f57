{#- Nightly incremental builds (issue 10). Two units of recomputation,
    declared once in dbt_project.yml:
    - staging: a raw file. An incremental run stages the rows of the files
      loaded or replaced since the rows it staged last (loaded_since_last_build)
      and replaces a replaced file's rows (delete+insert on source_name,
      source_file);
    - the book models: a (user_id, base_symbol) pair. Every model downstream of
      the cycle walk depends only on the orders, history markers, history items
      and positions-table markers of that pair (reentry items are matched
      across the trade modes of a pair). int_book_fingerprints records a
      fingerprint of each pair's inputs; a run recomputes exactly the pairs
      whose fingerprint changed and replaces their rows (delete+insert on the
      pair; filter changed_pairs_only on the models' inputs);
    - the whole table (meta incremental_unit: table): a model that reads its
      inputs whole (attribution, item de-duplication, fct_daily_pnl, the rpt_
      reports, dim_dates) is rebuilt in full after a file of a kind its
      sources hold was loaded or replaced since its last build, and kept as
      it is otherwise (only_if_inputs_loaded selects nothing).
    Every model says its unit in meta incremental_unit (raw_file, order,
    pair, table); the tests of a night are restricted to the rows its build
    (re)computed (get_where_subquery). A change of code or vars rebuilds what it affects by itself: every
    incremental model records the code version it was built with
    (model_code_version) and is rebuilt in full when it differs
    (should_full_refresh). -#}

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

{#- SQL condition on int_book_fingerprints' inputs (columns user_id,
    base_symbol): the pairs to fingerprint in this run. Every pair, unless
    none of its inputs received a file since its last build: then only the
    pairs a failed or killed run left uncommitted (usually none, and the
    inputs are not read). -#}
{% macro pairs_to_fingerprint() -%}
    {%- if is_incremental() and not inputs_loaded_since_last_build() -%}
        (user_id, base_symbol) in (
            select unfinished.user_id, unfinished.base_symbol
            from {{ this }} as unfinished
            where unfinished.committed_fingerprint is null or unfinished.committed_fingerprint <> unfinished.fingerprint
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

{#- SQL condition on a raw table's rows (column _loaded_at): the rows of the
    files loaded or replaced since this staging model last ran, i.e. later
    than the newest loaded_at it holds; always true on a full build. -#}
{% macro loaded_since_last_build() -%}
    {%- if is_incremental() -%}
        _loaded_at > (
            select coalesce(max(staged.loaded_at), cast('1900-01-01 00:00:00+00' as {{ type_instant() }}))
            from {{ this }} as staged
        )
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- The unique ids of a node and of everything upstream of it (models, seeds,
    sources), through depends_on. -#}
{% macro ancestor_ids(unique_id) -%}
    {%- set nodes = graph.nodes -%}
    {%- set ancestors = [unique_id] -%}
    {#- a namespace: a plain `set` inside a loop does not outlive the iteration -#}
    {%- set walk = namespace(frontier=[unique_id]) -%}
    {%- for _depth in range(50) if walk.frontier -%}
        {%- set next_frontier = [] -%}
        {%- for current in walk.frontier if current in nodes -%}
            {%- for parent in nodes[current].depends_on.nodes if parent not in ancestors -%}
                {%- do ancestors.append(parent) -%}
                {%- do next_frontier.append(parent) -%}
            {%- endfor -%}
        {%- endfor -%}
        {%- set walk.frontier = next_frontier -%}
    {%- endfor -%}
    {{- return(ancestors) -}}
{%- endmacro %}

{#- The code version of a model: a hash of its own file and every upstream
    model's file (dbt's checksums), every macro of this project, and the value
    of every var that code references (project vars and --vars alike). Equal
    versions mean that the same inputs give the same rows. -#}
{% macro model_code_version(unique_id) -%}
    {%- if not execute -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set nodes = graph.nodes -%}
    {%- set ancestors = ancestor_ids(unique_id) | select('in', nodes) | list -%}
    {%- set parts = [] -%}
    {%- set code = [] -%}
    {%- for ancestor in ancestors | sort -%}
        {%- do parts.append(ancestor ~ '=' ~ nodes[ancestor].checksum.checksum) -%}
        {%- do code.append(nodes[ancestor].raw_code) -%}
    {%- endfor -%}
    {%- for name, value in context.items() | sort if value.macro is defined
        and value.macro.package_name == project_name -%}
        {%- do parts.append(name ~ '=' ~ local_md5(value.macro.macro_sql)) -%}
        {%- do code.append(value.macro.macro_sql) -%}
    {%- endfor -%}
    {%- set var_names = modules.re.findall("var\\(\\s*['\"](\\w+)['\"]", code | join('\n')) | unique | sort -%}
    {%- for name in var_names -%}
        {%- do parts.append('var ' ~ name ~ '=' ~ tojson(var(name, none))) -%}
    {%- endfor -%}
    {{- return(local_md5(parts | join('\n'))) -}}
{%- endmacro %}

{#- Where each incremental model's code version is kept (one row per build). -#}
{% macro code_versions_relation() -%}
    {{- return(api.Relation.create(database=target.database, schema=target.schema,
        identifier='dbt_model_code_versions')) -}}
{%- endmacro %}

{#- on-run-start: the table of code versions. -#}
{% macro create_code_versions_table() -%}
    {{- return(adapter.dispatch('create_code_versions_table', 'trading_warehouse')()) -}}
{%- endmacro %}

{% macro default__create_code_versions_table() -%}
    create schema if not exists {{ target.schema }};
    create table if not exists {{ code_versions_relation() }} (
        model_id {{ dbt.type_string() }},
        code_version {{ dbt.type_string() }},
        built_at {{ type_instant() }}
    );
    alter table {{ code_versions_relation() }} add column if not exists build_kind {{ dbt.type_string() }}
{%- endmacro %}

{#- Spark builds plain tables: nothing incremental, nothing to keep. -#}
{% macro spark__create_code_versions_table() -%}
{%- endmacro %}

{#- post-hook of every model (dbt_project.yml), inside the model's
    transaction: an incremental model records the code version it was built
    with, and whether this build was full or incremental (rendered before the
    row is added, so is_incremental() still sees the previous version). -#}
{% macro record_code_version() -%}
    {%- if model.config.materialized == 'incremental' -%}
        insert into {{ code_versions_relation() }} (model_id, code_version, built_at, build_kind)
        values ('{{ model.unique_id }}', '{{ model_code_version(model.unique_id) }}',
            cast('{{ run_started_at.isoformat() }}' as {{ type_instant() }}),
            '{{ "incremental" if is_incremental() else "full" }}')
    {%- endif -%}
{%- endmacro %}

{#- dbt's own should_full_refresh (used by the incremental materialization
    and is_incremental), extended: an incremental model whose last build
    recorded another code version than its current one (or none) is rebuilt
    in full; so is a model declaring meta rebuild_when_replaced after a
    replaced file of those kinds, and a whole-table model (meta
    incremental_unit: table) after any new or replaced file its sources
    hold. --full-refresh and the full_refresh config keep their meaning. -#}
{% macro should_full_refresh() -%}
    {%- set config_full_refresh = config.get('full_refresh') -%}
    {%- if config_full_refresh is none -%}
        {%- set config_full_refresh = flags.FULL_REFRESH -%}
    {%- endif -%}
    {%- if config_full_refresh or not execute or model.config.materialized != 'incremental' -%}
        {{- return(config_full_refresh) -}}
    {%- endif -%}
    {%- if recorded_code_version(model.unique_id) != model_code_version(model.unique_id) -%}
        {{- return(true) -}}
    {%- endif -%}
    {%- set meta = config.get('meta', {}) -%}
    {%- if meta.get('incremental_unit') == 'table' and inputs_loaded_since_last_build() -%}
        {{- return(true) -}}
    {%- endif -%}
    {{- return(files_since_last_build(meta.get('rebuild_when_replaced', []), ['replaced'])) -}}
{%- endmacro %}

{#- True when a file or table of one of these kinds (load_log.kind: orders,
    fills, positions, history) was loaded with one of these actions (loaded,
    replaced) since this model's last recorded build, or when it has none.
    Rows a replaced file no longer holds cannot be seen by an incremental run,
    so a model declaring meta rebuild_when_replaced is then rebuilt in full. -#}
{% macro files_since_last_build(kinds, actions) -%}
    {%- if not kinds -%}
        {{- return(false) -}}
    {%- endif -%}
    {%- set built_at = recorded_code_version(model.unique_id, 'built_at') -%}
    {%- if built_at is none -%}
        {{- return(true) -}}
    {%- endif -%}
    {%- set load_log = graph.sources['source.' ~ project_name ~ '.trading_app.load_log'] -%}
    {%- set relation = api.Relation.create(database=load_log.database, schema=load_log.schema,
        identifier=load_log.identifier) -%}
    {%- set result = run_query("select count(*) from " ~ relation ~ " where action in ('" ~ actions | join("', '")
        ~ "') and kind in ('" ~ kinds | join("', '") ~ "') and loaded_at > cast('" ~ built_at ~ "' as "
        ~ type_instant() ~ ")") -%}
    {{- return(result.columns[0].values()[0] > 0) -}}
{%- endmacro %}

{#- The kinds of file (load_log.kind) the sources upstream of a model are
    loaded from: each source table names them in meta load_kinds
    (_trading_app__sources.yml). -#}
{% macro upstream_load_kinds(unique_id) -%}
    {%- set kinds = [] -%}
    {%- for ancestor in ancestor_ids(unique_id) if ancestor in graph.sources -%}
        {%- set source = graph.sources[ancestor] -%}
        {%- for kind in source.config.meta.get('load_kinds') or source.meta.get('load_kinds') or [] -%}
            {%- do kinds.append(kind) -%}
        {%- endfor -%}
    {%- endfor -%}
    {{- return(kinds | unique | list) -}}
{%- endmacro %}

{#- True when a file of a kind this model's sources hold was loaded or
    replaced since its last build (or it has none): only then can its rows
    differ from those it holds. -#}
{% macro inputs_loaded_since_last_build() -%}
    {{- return(files_since_last_build(upstream_load_kinds(model.unique_id), ['loaded', 'replaced'])) -}}
{%- endmacro %}

{#- The end of a model's select: an incremental run of a model none of whose
    inputs received a file since its last build selects nothing (`where
    false`: the engine does not read the inputs at all), as does every
    incremental run of a whole-table model (should_full_refresh rebuilds it in
    full when its inputs changed, so an incremental run of it is a kept
    table). Empty otherwise. -#}
{% macro only_if_inputs_loaded() -%}
    {%- if is_incremental() and (config.get('meta', {}).get('incremental_unit') == 'table'
        or not inputs_loaded_since_last_build()) -%}
        where false
    {%- endif -%}
{%- endmacro %}

{% macro recorded_code_version(unique_id, column='code_version') -%}
    {%- set relation = code_versions_relation() -%}
    {#- information_schema rather than the relation cache: the table is created by on-run-start -#}
    {%- set exists = run_query("select count(*) from information_schema.tables where lower(table_schema) = '"
        ~ relation.schema | lower ~ "' and lower(table_name) = '" ~ relation.identifier | lower ~ "'") -%}
    {%- if exists.columns[0].values()[0] == 0 -%}
        {{- return(none) -}}
    {%- endif -%}
    {%- set result = run_query(
        "select " ~ column ~ " from " ~ relation ~ " where model_id = '" ~ unique_id ~ "'"
        ~ " order by built_at desc limit 1") -%}
    {{- return(result.columns[0].values()[0] if result.rows | length > 0 else none) -}}
{%- endmacro %}

{#- Tests that scale (dbt's get_where_subquery, extended; it applies a generic
    data test's `where` config). A model whose latest build was incremental is
    tested on the rows that build (re)computed (latest_build_slice): none on a
    quiet night. After a full build, on views, on Spark (plain tables), or
    with env TEST_SCOPE=all, everything. -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- set build_slice = latest_build_slice(relation) -%}
    {%- if where and build_slice -%}
        {%- set where = '(' ~ where ~ ') and ' ~ build_slice -%}
    {%- elif build_slice -%}
        {%- set where = build_slice -%}
    {%- endif -%}
    {#- otherwise exactly dbt-core's text: Spark reads `from t where (x)` as an alias `where` with a
        column list, so a lone condition is not parenthesised -#}
    {%- if where -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') -%}
    {%- endif -%}
    {%- do return(relation) -%}
{%- endmacro %}

{#- SQL condition on the rows of an incremental model (found by its relation)
    that its latest build (re)computed, by the model's meta incremental_unit:
    - pair: the pairs int_book_fingerprints stamped in that run;
    - raw_file: the rows of the files loaded after the build before it began
      (those it staged);
    - order: the orders it re-ranked (their processed_through, the newest
      load it saw, is later than the start of the build before it);
    - table: nothing (the table was kept as it was tested when it was built).
    Empty (everything) when that build was full, for other models, or with
    env TEST_SCOPE=all. -#}
{% macro latest_build_slice(relation) -%}
    {%- if not execute or env_var('TEST_SCOPE', 'changed') == 'all' -%}
        {{- return('') -}}
    {%- endif -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model'
        and node.config.materialized == 'incremental'
        and (node.alias | lower) == (relation.identifier | lower) and (node.schema | lower) == (relation.schema | lower) -%}
        {%- set unit = node.config.meta.get('incremental_unit') -%}
        {%- if recorded_code_version(node.unique_id, 'build_kind') != 'incremental' -%}
            {{- return('') -}}
        {%- endif -%}
        {%- set builds = code_versions_relation() ~ " as build where build.model_id = '" ~ node.unique_id ~ "'" -%}
        {%- set latest = "(select max(build.built_at) from " ~ builds ~ ")" -%}
        {%- set previous = "(select max(build.built_at) from " ~ builds ~ " and build.built_at < " ~ latest ~ ")" -%}
        {%- if unit == 'pair' -%}
            {%- set fingerprints = graph.nodes['model.' ~ project_name ~ '.int_book_fingerprints'] -%}
            {%- set stamps = api.Relation.create(database=fingerprints.database, schema=fingerprints.schema,
                identifier=fingerprints.alias) -%}
            {{- return("(user_id, base_symbol) in (select stamped.user_id, stamped.base_symbol from " ~ stamps
                ~ " as stamped where stamped.fingerprinted_at = " ~ latest ~ ")") -}}
        {%- elif unit == 'raw_file' -%}
            {{- return("loaded_at > " ~ previous) -}}
        {%- elif unit == 'order' -%}
            {{- return("processed_through > " ~ previous) -}}
        {%- elif unit == 'table' -%}
            {{- return("false") -}}
        {%- endif -%}
    {%- endfor -%}
    {{- return('') -}}
{%- endmacro %}

{#- delete+insert on DuckDB (dbt-duckdb's own, overridden): the rows to
    replace are found with `(key columns) in (select distinct ...)`, as
    dbt-core's default__ does. dbt-duckdb joins the target to the new rows
    instead (`delete ... using`), which for a key of few distinct values (a
    raw file: every staged row of a replaced history file shares one key) is
    a join of n x n rows: a 400k-row file never finished. -#}
{% macro duckdb__get_delete_insert_merge_sql(target, source, unique_key, dest_columns, incremental_predicates) -%}
    {{- return(default__get_delete_insert_merge_sql(target, source, unique_key, dest_columns, incremental_predicates)) -}}
{%- endmacro %}
