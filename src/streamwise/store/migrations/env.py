"""Alembic environment: the engine is handed over by streamwise.store.migrate."""

from alembic import context
from sqlalchemy import Engine

import streamwise.model as model

config = context.config
engine: Engine = config.attributes["engine"]

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=model.Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    context.run_migrations()
