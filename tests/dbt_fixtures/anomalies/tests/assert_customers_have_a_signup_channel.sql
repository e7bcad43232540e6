-- Every customer signed up somewhere. Its failing rows carry the whole customer, personal data included.
select * from {{ ref('customers') }}
where signup_channel is null
