{#-
    dbt-expectations-compatible tests on a relation's columns and their types, read with
    adapter.get_columns_in_relation (so `model` must be a relation: no `where` config on these).
    Names are compared after the `transform` filter (upper by default), types case-insensitively.
-#}

{#- The relation's columns against `column_list`: one failing row per name missing from either side. -#}
{% macro _dq_compare_column_names(model, column_list, transform="upper", mode="match") %}
{%- if execute -%}
{%- set expected = column_list | map("string") | map(transform) | list -%}
{%- set actual = dbt_utils._dq_column_names(model, transform) -%}
{%- set ordered = mode == "ordered" %}
with relation_columns as (
    {{ dbt_utils._dq_literal_rows(actual, "relation_column", index_column=("relation_column_idx" if ordered else none)) }}
),

input_columns as (
    {{ dbt_utils._dq_literal_rows(expected, "input_column", index_column=("input_column_idx" if ordered else none)) }}
)

select *
from relation_columns
full outer join input_columns
    on relation_columns.relation_column = input_columns.input_column
    {%- if ordered %}
    and relation_columns.relation_column_idx = input_columns.input_column_idx
    {%- endif %}
where
    {%- if mode in ["match", "ordered"] %}
    relation_columns.relation_column is null
    or input_columns.input_column is null
    {%- elif mode == "contain" %}
    relation_columns.relation_column is null
    {%- elif mode == "not_contain" %}
    relation_columns.relation_column is not null
    and input_columns.input_column is not null
    {%- endif %}
{%- endif -%}
{% endmacro %}


{% test expect_table_columns_to_match_set(model, column_list, transform="upper") %}
{{ dbt_expectations._dq_compare_column_names(model, column_list, transform, "match") }}
{% endtest %}


{% test expect_table_columns_to_contain_set(model, column_list, transform="upper") %}
{{ dbt_expectations._dq_compare_column_names(model, column_list, transform, "contain") }}
{% endtest %}


{% test expect_table_columns_to_not_contain_set(model, column_list, transform="upper") %}
{{ dbt_expectations._dq_compare_column_names(model, column_list, transform, "not_contain") }}
{% endtest %}


{% test expect_table_columns_to_match_ordered_list(model, column_list, transform="upper") %}
{{ dbt_expectations._dq_compare_column_names(model, column_list, transform, "ordered") }}
{% endtest %}


{#- `column_index` (from 1), when given, is the position the column must have. -#}
{% test expect_column_to_exist(model, column_name, column_index=none, transform="upper") %}
{%- if execute -%}
{%- set column_name = [column_name | string] | map(transform) | first -%}
{%- set actual = dbt_utils._dq_column_names(model, transform) -%}
{%- set position = actual.index(column_name) + 1 if column_name in actual else 0 -%}
{%- set index_matches = (not column_index) or position == column_index %}
select
    cast('{{ dbt.escape_single_quotes(column_name) }}' as {{ dbt.type_string() }}) as column_name,
    {{ position }} as column_position,
    {{ column_index or "cast(null as int)" }} as expected_position
where not ({{ (position > 0 and index_matches) | string | lower }})
{%- endif -%}
{% endtest %}


{% test expect_table_column_count_to_equal(model, value) %}
{%- if execute %}
select {{ adapter.get_columns_in_relation(model) | length }} as column_count
where not ({{ adapter.get_columns_in_relation(model) | length }} = {{ value }})
{%- endif -%}
{% endtest %}


{#- The model has as many columns as `compare_model`; fails with one row of both counts. -#}
{% test expect_table_column_count_to_equal_other_table(model, compare_model) %}
{%- if execute %}
{%- set column_count = adapter.get_columns_in_relation(model) | length %}
{%- set compare_column_count = adapter.get_columns_in_relation(compare_model) | length %}
select {{ column_count }} as number_columns, {{ compare_column_count }} as compare_number_columns
where not ({{ column_count }} = {{ compare_column_count }})
{%- endif -%}
{% endtest %}


{% test expect_table_column_count_to_be_between(model, min_value=none, max_value=none, strictly=false) %}
{%- if execute %}
{%- set column_count = adapter.get_columns_in_relation(model) | length %}
select {{ column_count }} as column_count
where not ({{ dbt_utils._dq_between(column_count, min_value, max_value, strictly) }})
{%- endif -%}
{% endtest %}


{#-
    The column's type is one of `column_type_list`; unlike dbt-expectations, a column missing from the
    relation fails (with a null type) instead of passing.
-#}
{% macro _dq_column_type_in(model, column_name, column_type_list) %}
{%- if execute -%}
{%- set wanted = column_type_list | map("string") | map("lower") | map("replace", " ", "") | list -%}
{%- set found = [] -%}
{%- for column in adapter.get_columns_in_relation(model) if column.name | lower == column_name | lower -%}
    {%- do found.append(column.dtype | lower | replace(" ", "")) -%}
{%- endfor %}
select
    cast('{{ dbt.escape_single_quotes(column_name) }}' as {{ dbt.type_string() }}) as column_name,
    cast({{ "'" ~ found[0] ~ "'" if found else "null" }} as {{ dbt.type_string() }}) as column_type,
    cast('{{ wanted | join(", ") }}' as {{ dbt.type_string() }}) as expected_types
where not ({{ ((found | length > 0) and found[0] in wanted) | string | lower }})
{%- endif -%}
{% endmacro %}


{% test expect_column_values_to_be_in_type_list(model, column_name, column_type_list) %}
{{ dbt_expectations._dq_column_type_in(model, column_name, column_type_list) }}
{% endtest %}


{% test expect_column_values_to_be_of_type(model, column_name, column_type) %}
{{ dbt_expectations._dq_column_type_in(model, column_name, [column_type]) }}
{% endtest %}
