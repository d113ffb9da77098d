"""Alembic environment. The helpdesk passes an open connection in ``config.attributes``
(see ``helpdesk.storage.database``), so migrations run inside the application's engine,
async drivers included."""

from alembic import context

from helpdesk.storage.tables import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `helpdesk db upgrade`, which provides the connection")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying
)
with context.begin_transaction():
    context.run_migrations()
