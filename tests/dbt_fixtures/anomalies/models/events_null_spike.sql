{{ fixture_events(null_every=2) }}
