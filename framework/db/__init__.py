"""The outcomes database shared by bot/ and actions/.

- models.py: the tables (SQLAlchemy 2).
- engine.py: engines and sessions for HEARD_DATABASE_URL, health check, and Alembic
  upgrade/downgrade (migrations in ./migrations).
- repository.py: the functions that read and write; nothing else should query directly.
- codes.py: invite codes.
"""
