"""Process settings, read from the environment (prefix ``STREAMWISE_``) or passed explicitly.

These are *where things are* (database, organisation file). *What the organisation is*
(value streams, mappings, sources) lives in ``streamwise.yaml``: see ``normalize.config``.
"""

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///streamwise.db"
DEFAULT_CONFIG_PATH = Path("streamwise.yaml")


class Settings(BaseSettings):
    """Where the database and the organisation configuration are."""

    model_config = SettingsConfigDict(env_prefix="STREAMWISE_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    config: Path = DEFAULT_CONFIG_PATH
    host: str = "127.0.0.1"
    port: int = 8000


def redact_url(url: str) -> str:
    """Hide a password in a database URL so it can be printed or logged."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparsable database URL>"
