"""What runs when: the scheduler's definitions (assets, schedules per source frequency, SLAs).

The command line, the local platform and the demo live in `lakehouse/`; the synthetic company in
`company/`; source definitions in `sources/`.
"""
