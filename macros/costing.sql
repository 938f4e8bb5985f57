{#- Costing: the R5 running average cost of a holding as window sums (no
    recursion), plain SQL on every engine. Documented in macros/_macros.yml. -#}

{#- The app's average after each event: on a priced buy of q at p while q0 is
    held, a := (q0 * a + q * p) / (q0 + q); the first priced buy sets a := p;
    sells, markers and unpriced buys leave it. As CTEs for a WITH list: defines
    CTE `name` = every column of `events` plus `avg_column` (NULL before the
    first priced buy), through name__first_priced, name__factors and
    name__products.

    The maths. Write the recurrence as a_k = alpha_k * a_(k-1) + beta_k with
    alpha_k = q0 / (q0 + q) and beta_k = q * p / (q0 + q) on a priced buy after
    the first, alpha_k = 1 and beta_k = 0 on every other event. With the prefix
    product P_k = alpha_1 * ... * alpha_k, divide by P_k:
        a_k / P_k = a_(k-1) / P_(k-1) + beta_k / P_k,
    which telescopes from the first priced buy (a = its price p_first) to
        a_j = P_j * (p_first + sum over k <= j of beta_k / P_k).
    Both are window sums; P_j = exp(sum of ln alpha_k), every alpha_k > 0
    because a buy after the first one finds shares held (q0 > 0) in its cycle. -#}
{% macro running_average_cost(name, events, partition_by, order_by, is_buy, held_before, quantity, price,
                              avg_column='avg_entry_price') -%}
{%- set double = type_double() -%}
{{ name }}__first_priced as (

    select
        *,
        min(case when {{ is_buy }} and {{ price }} is not null then {{ order_by }} end)
            over (partition by {{ partition_by }}) as cost_first_priced_seq
    from {{ events }}

),

{{ name }}__factors as (

    select
        *,
        max(case when {{ order_by }} = cost_first_priced_seq then {{ price }} end)
            over (partition by {{ partition_by }}) as cost_first_price,
        case
            when {{ is_buy }} and {{ price }} is not null and {{ order_by }} > cost_first_priced_seq
                then cast({{ held_before }} as {{ double }}) / cast({{ held_before }} + {{ quantity }} as {{ double }})
            else 1.0
        end as cost_alpha,
        case
            when {{ is_buy }} and {{ price }} is not null and {{ order_by }} > cost_first_priced_seq
                then
                    cast({{ quantity }} as {{ double }}) * {{ price }}
                    / cast({{ held_before }} + {{ quantity }} as {{ double }})
            else 0.0
        end as cost_beta
    from {{ name }}__first_priced

),

{{ name }}__products as (

    select
        *,
        exp(sum(ln(cost_alpha)) over (
            partition by {{ partition_by }}
            order by {{ order_by }} rows between unbounded preceding and current row
        )) as cost_alpha_product
    from {{ name }}__factors

),

{{ name }} as (

    select
        *,
        case
            when {{ order_by }} >= cost_first_priced_seq
                then cost_alpha_product * (cost_first_price + sum(cost_beta / cost_alpha_product) over (
                    partition by {{ partition_by }}
                    order by {{ order_by }} rows between unbounded preceding and current row
                ))
        end as {{ avg_column }}
    from {{ name }}__products

)
{%- endmacro %}
