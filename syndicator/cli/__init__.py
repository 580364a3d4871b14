"""The `syndicator` command line."""

from syndicator.cli.app import main

__all__ = ["main"]
