"""The shared core every other package builds on: errors a user can act on (`errors`), the lakehouse
root (`storage`), the project and home folders (`home`) and the `Frequency` vocabulary (`frequency`).

It imports nothing of the project's other packages, so `loaders`, `company` and the rest of
`lakehouse` can all depend on it without a cycle.
"""
