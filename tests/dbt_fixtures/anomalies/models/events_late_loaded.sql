{{ fixture_events(lag_minutes=300) }}
