"""Elasticsearch: client, index template and alias, bulk writes, analyst queries."""
