"""Storage: SQLAlchemy 2 models, a repository and a unit of work; Alembic owns the schema."""
