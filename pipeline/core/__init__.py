"""Pure domain logic: no Kafka, Faust or Elasticsearch imports here."""
