"""Database: models, engine, migrations."""
