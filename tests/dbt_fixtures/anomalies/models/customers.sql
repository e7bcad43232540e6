select
    customer_id,
    email,
    full_name,
    signup_channel,
    country_code
from {{ ref('customers_seed') }}
