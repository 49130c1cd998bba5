"""Storage: SQLModel tables, engine and sessions, query functions and alembic migrations.

Imports nothing from `commands` or `bot`.
"""
