"""Replays of public data sets as HST messages."""
