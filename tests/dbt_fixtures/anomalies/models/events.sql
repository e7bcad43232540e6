{{ fixture_events() }}
