{#-
    Identity resolution converged: records sharing a normalised email always resolve to the same
    customer. (Label propagation stops after a fixed number of rounds; a chain of links longer than
    that would leave one email split across customers, and fail here.)
-#}

select
    email_hash,
    count(distinct customer_key) as customer_count
from {{ ref('slv_customer_identity_map') }}
where email_hash is not null
group by email_hash
having count(distinct customer_key) > 1
