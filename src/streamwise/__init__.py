"""Streamwise: an open-source, self-hosted value stream management platform."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("streamwise")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0"

__all__ = ["__version__"]
