"""The stream: Faust agents that validate, deduplicate, enrich and index HST messages."""
