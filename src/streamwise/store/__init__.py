"""Engine, sessions, migrations and bulk upserts: the only place that knows about databases."""

from streamwise.store.engine import Database, open_database

__all__ = ["Database", "open_database"]
