"""Alembic environment: always run with a connection handed over by dispatcher.store.db."""

from __future__ import annotations

from alembic import context

from dispatcher.store.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - guarded for people running bare `alembic`
    raise RuntimeError("run migrations through `dispatcher db upgrade`, not bare alembic")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
