"""Analytical bulletins for the NCBs: fetch the figures' messages, render them as HTML."""
