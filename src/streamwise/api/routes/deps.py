"""What every route needs: the app's database and a session per request."""

from collections.abc import Iterator

from fastapi import Request
from sqlalchemy.orm import Session

from streamwise.store import Database


def database(request: Request) -> Database:
    found: Database = request.app.state.database
    return found


def session(request: Request) -> Iterator[Session]:
    """A read session; routes that write open their own transaction on ``database``."""
    with database(request).sessions() as db_session:
        yield db_session
