"""``streamwise serve``: the web app and API."""

import typer

from streamwise.cli.context import console, state


def serve_command(
    host: str = typer.Option(
        None, "--host", help="Interface to listen on.", show_default="127.0.0.1"
    ),
    port: int = typer.Option(None, "--port", help="Port to listen on.", show_default="8000"),
) -> None:
    """Serve the web app and the JSON API.

    Example: streamwise serve --port 8000, then open http://127.0.0.1:8000
    """
    import uvicorn

    from streamwise.api.app import create_app

    host = host or state.settings.host
    port = port or state.settings.port
    database = state.database()
    app = create_app(state.settings, database)
    console.print(
        f"Streamwise is serving on http://{host}:{port}  (API: /api/summary, health: /health, "
        "docs: /docs). Stop with Ctrl+C."
    )
    uvicorn.run(app, host=host, port=port, log_level="warning")
