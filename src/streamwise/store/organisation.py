"""The organisation row's settings that several layers read."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from streamwise.model import Organisation


def organisation_timezone(session: Session) -> str:
    """The IANA zone days and weeks are counted in (UTC until a config is applied)."""
    return session.scalar(select(Organisation.timezone)) or "UTC"
