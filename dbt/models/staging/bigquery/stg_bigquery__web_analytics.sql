{{ ga4_events(source('bigquery', 'web_analytics')) }}
