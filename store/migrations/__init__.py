"""Alembic migrations of the database schema: env.py, and one revision per schema change in versions/."""
