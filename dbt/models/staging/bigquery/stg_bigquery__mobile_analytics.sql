{{ ga4_events(source('bigquery', 'mobile_analytics')) }}
