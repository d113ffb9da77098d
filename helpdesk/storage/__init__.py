"""Storage with SQLAlchemy 2.x (async).

`tables` is the schema; `_mapping` turns rows into domain objects and back, declared once
per type; the repositories live by subject (`people`, `knowledge`, `tickets`, `messages`,
`schedule`, `curation`, `audit_log`, `privacy`); `unit_of_work` gives them one session and
one transaction; `database` holds the engine and runs the migrations."""
