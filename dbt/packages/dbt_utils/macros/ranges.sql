{#- dbt_utils-compatible tests on ranges of values. -#}

{#- Fails with the rows outside the range (bounds included unless `inclusive` is false); nulls pass. -#}
{% test accepted_range(model, column_name, min_value=none, max_value=none, inclusive=true) %}
{{ dbt_utils._dq_failing_rows(model, dbt_utils._dq_between(column_name, min_value, max_value, not inclusive)) }}
{% endtest %}


{#-
    The [lower, upper) ranges of each `partition_by` partition do not overlap; `gaps` says whether the
    next range may (allowed), must not (not_allowed) or must (required) start after this one ends.
    A null bound fails. Fails with the offending ranges.
-#}
{% test mutually_exclusive_ranges(
    model,
    lower_bound_column,
    upper_bound_column,
    partition_by=none,
    gaps="allowed",
    zero_length_range_allowed=false
) %}
{%- set gap_operators = {"not_allowed": "=", "allowed": "<=", "required": "<"} -%}
{%- if gaps not in gap_operators -%}
    {{ exceptions.raise_compiler_error("gaps must be one of allowed, not_allowed, required; got '" ~ gaps ~ "'") }}
{%- endif -%}
{%- set length_operator = "<=" if zero_length_range_allowed else "<" -%}
{%- set partition_clause = "partition by " ~ partition_by if partition_by else "" %}
with window_functions as (

    select
        {%- if partition_by %}
        {{ partition_by }},
        {%- endif %}
        {{ lower_bound_column }} as lower_bound,
        {{ upper_bound_column }} as upper_bound,
        lead({{ lower_bound_column }}) over (
            {{ partition_clause }}
            order by {{ lower_bound_column }}, {{ upper_bound_column }}
        ) as next_lower_bound,
        row_number() over (
            {{ partition_clause }}
            order by {{ lower_bound_column }} desc, {{ upper_bound_column }} desc
        ) = 1 as is_last_record
    from {{ model }}

),

calc as (

    select
        *,
        coalesce(lower_bound {{ length_operator }} upper_bound, false) as is_valid_range,
        coalesce(upper_bound {{ gap_operators[gaps] }} next_lower_bound, is_last_record, false) as fits_next_range
    from window_functions

)

select *
from calc
where not (is_valid_range and fits_next_range)
{% endtest %}
