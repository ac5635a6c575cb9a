"""Persistence: SQLModel tables, engine set-up, migrations and repositories.

Imports nothing from `bot` or `handlers`: everything above depends on this package, never the
other way round.
"""
