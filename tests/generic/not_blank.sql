{#- Generic test: a text column is NULL or holds something other than
    whitespace (staging turns blank export cells into NULL). Returns the blank
    rows. -#}
{% test not_blank(model, column_name) %}

with blank as (

    select * from {{ model }}
    where trim({{ column_name }}) = ''

)

select * from blank

{% endtest %}
