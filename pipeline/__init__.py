"""hst-pipeline: HST messages from NCB gateways through Kafka and Faust to search."""
