{#- Version 2 retypes amount, drops channel and adds campaign: what schema_changes must report. -#}
select
    event_id,
    {%- if var('fixture_schema_version') | int == 1 %}
    amount,
    'web' as channel
    {%- else %}
    cast(amount as decimal(18, 2)) as amount,
    'spring' as campaign
    {%- endif %}
from {{ ref('events') }}
