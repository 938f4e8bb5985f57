{#- Generic test: every non-NULL value of the column lies within
    [`min_value`, `max_value`] (or the open interval when `inclusive` is
    false); either bound may be left out. Bounds are SQL expressions, so a
    bound can be another column of the same row (e.g. `min_value: placed_at`).
    Returns the offending rows. NULLs pass: pair with not_null where needed. -#}
{% test accepted_range(model, column_name, min_value=none, max_value=none, inclusive=true) %}

with checked as (

    select {{ column_name }} as checked_value, *
    from {{ model }}
    where {{ column_name }} is not null

),

out_of_range as (

    select * from checked
    where
        1 = 0
        {%- if min_value is not none %}
            or not (checked_value {{ '>=' if inclusive else '>' }} {{ min_value }})
        {%- endif %}
        {%- if max_value is not none %}
            or not (checked_value {{ '<=' if inclusive else '<' }} {{ max_value }})
        {%- endif %}

)

select * from out_of_range

{% endtest %}
