{{ fixture_events(volume_factor=0.2) }}
