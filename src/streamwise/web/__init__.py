"""Server-rendered pages: the portfolio and the value stream page with its map drawn from data.

Mount with ``app.include_router(streamwise.web.router)``; the pages read the database from
``request.app.state.database``, which ``create_app`` sets.
"""

from streamwise.web.routes import router

__all__ = ["router"]
