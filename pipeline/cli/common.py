"""Shared pieces of the command line: consoles and settings."""

from __future__ import annotations

from rich.console import Console

from pipeline.settings import Settings, get_settings

console = Console()
err_console = Console(stderr=True)


def settings() -> Settings:
    """The settings from the environment."""
    return get_settings()
