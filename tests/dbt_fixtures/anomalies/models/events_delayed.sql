{{ fixture_events(stop_hour=14) }}
