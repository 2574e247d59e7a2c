"""Streamwise: an open-source, self-hosted value stream management platform."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("streamwise")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0"

__all__ = ["Streamwise", "__version__"]


def __getattr__(name: str) -> object:
    """``from streamwise import Streamwise`` without importing the whole stack for the CLI."""
    if name == "Streamwise":
        from streamwise.client import Streamwise

        return Streamwise
    raise AttributeError(name)
