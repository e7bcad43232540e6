{{ fixture_events(drop_country='DE') }}
