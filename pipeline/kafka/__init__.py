"""Kafka clients: topic administration and the NCB gateway's publisher."""
