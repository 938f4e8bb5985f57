{#- Generic test: the SQL boolean `expression` holds on every row (rows where it
    is false or NULL fail, unless `where` config filters them out). Attach it to
    the column whose rule it states, or to the model for a rule across columns.
    Returns the offending rows. -#}
{% test expression_is_true(model, expression, column_name=none) %}

select *
from {{ model }}
where not coalesce({{ expression }}, false)

{% endtest %}
