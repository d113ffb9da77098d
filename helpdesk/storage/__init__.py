"""Storage with SQLAlchemy 2.x (async): tables, repositories, the unit of work, migrations."""
