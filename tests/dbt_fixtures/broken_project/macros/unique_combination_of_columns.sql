{#- Parsing needs the generic test to exist; this fixture is never built. -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
select 1 as duplicated where false
{% endtest %}
