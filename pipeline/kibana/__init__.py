"""Kibana: the analysts' saved objects and their import."""
