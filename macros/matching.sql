{#- Matching: a one-to-one matching of candidate pairs. Plain window SQL, the
    same on every engine. Documented in macros/_macros.yml. -#}

{#- Greedy matching over a strict preference order of the pairs, as common
    table expressions: the call stands in a WITH list (followed by a comma
    when more CTEs follow) and defines the CTE `name` with the pairs taken
    (columns left_key + right_key), through helper CTEs name__round_<r>.
    `candidates` (a CTE or relation) holds one row per possible pair.

    Greedy: take the most preferred pair, drop every other pair sharing a side
    with it, repeat. Over a strict total order this equals taking, in rounds,
    every pair that is each side's first open choice ("mutual best"): no
    better pair can pre-empt such a pair, since none is better for either
    side. Each round reads the one before once (a linear chain: Spark's
    analyzer expands repeated CTE references). `rounds` is an implementation
    detail: it must be at least the length of the longest chain of displaced
    first choices in the data; a caller proves it with a data test that no
    open pair is left (greedy matching is maximal), here
    assert_reentry_matching_is_maximal. With rounds = 1 it is a single
    mutual-first-choice pass. -#}
{% macro greedy_mutual_best_pairs(name, candidates, left_key, right_key, preference, rounds=8) -%}
    {%- set carried = [] -%}
    {%- for column in left_key + right_key + preference -%}
        {%- if column not in carried -%}{%- do carried.append(column) -%}{%- endif -%}
    {%- endfor -%}
    {%- set carried_list = carried | join(',\n        ') -%}
    {%- set order_by = preference | join(', ') -%}
{#- every candidate stays in the chain: is_open = 1 while neither side is taken,
    matched_round = the round that took the pair (0: not taken) #}
{{ name }}__round_0 as (

    select
        {{ carried_list }},
        0 as matched_round,
        1 as is_open
    from {{ candidates }}

),
{% for round in range(1, rounds + 1) %}
{{ name }}__round_{{ round }} as (

    select
        {{ carried_list }},
        case when is_pair = 1 then {{ round }} else matched_round end as matched_round,
        case
            when is_open = 0 or is_pair = 1 then 0
            when max(is_pair) over (partition by {{ left_key | join(', ') }}) = 1 then 0
            when max(is_pair) over (partition by {{ right_key | join(', ') }}) = 1 then 0
            else 1
        end as is_open
    from (
        select
            {{ carried_list }},
            matched_round,
            is_open,
            case
                when
                    is_open = 1
                    and row_number() over (partition by {{ left_key | join(', ') }}, is_open order by {{ order_by }}) = 1
                    and row_number() over (partition by {{ right_key | join(', ') }}, is_open order by {{ order_by }}) = 1
                    then 1
                else 0
            end as is_pair
        from {{ name }}__round_{{ round - 1 }}
    ) as ranked

),
{% endfor %}
{{ name }} as (

    select
        {{ (left_key + right_key) | join(',\n        ') }}
    from {{ name }}__round_{{ rounds }}
    where matched_round > 0

)
{%- endmacro %}
