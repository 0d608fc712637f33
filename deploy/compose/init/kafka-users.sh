#!/bin/bash
# One-shot: SCRAM users and ACLs of the compose cluster, through the admin listener as `admin`.
set -euo pipefail
BIN=/opt/kafka/bin
CONF=/tmp/admin.properties
cat > "$CONF" <<PROPS
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="${KAFKA_ADMIN_PASSWORD}";
ssl.truststore.type=PEM
ssl.truststore.location=/certs/ca.pem
PROPS
BS=kafka-1:9092
scram() {  # user password
  "$BIN/kafka-configs.sh" --bootstrap-server "$BS" --command-config "$CONF" --alter \
    --entity-type users --entity-name "$1" --add-config "SCRAM-SHA-512=[iterations=8192,password=$2]"
}
acl() { "$BIN/kafka-acls.sh" --bootstrap-server "$BS" --command-config "$CONF" --add --force "$@"; }

# The workers: every pipeline topic (hst.*), their changelogs (<app id>-*), their group.
scram hst-worker "$WORKER_PASSWORD"
acl --allow-principal User:hst-worker --operation All --topic hst. --resource-pattern-type prefixed
acl --allow-principal User:hst-worker --operation All --topic hst-pipeline- --resource-pattern-type prefixed
acl --allow-principal User:hst-worker --operation All --group hst-pipeline --resource-pattern-type prefixed
acl --allow-principal User:hst-worker --operation Describe --operation IdempotentWrite --cluster

# The schema registry: its own topic and group.
scram schema-registry "$REGISTRY_PASSWORD"
acl --allow-principal User:schema-registry --operation All --topic _schemas
acl --allow-principal User:schema-registry --operation All --group schema-registry
acl --allow-principal User:schema-registry --operation Describe --operation DescribeConfigs --cluster

# NCB gateways (HST_NCBS): each authenticates as ncb-<CODE>, writes only its own inbound
# topic and reads only its own notices and acknowledgements (the same plan as
# `hst security provision`, pipeline/kafka/security.py).
for ncb in $NCBS; do
  var="NCB_PASSWORD_${ncb}"
  scram "ncb-${ncb}" "${!var}"
  acl --allow-principal "User:ncb-${ncb}" --operation Write --operation Describe --topic "hst.inbound.${ncb}"
  acl --allow-principal "User:ncb-${ncb}" --operation Read --operation Describe --topic "hst.diffusion.${ncb}"
  acl --allow-principal "User:ncb-${ncb}" --operation Read --operation Describe --topic "hst.acks.${ncb}"
  acl --allow-principal "User:ncb-${ncb}" --operation Read --group hst-reader- --resource-pattern-type prefixed
done
echo "users and ACLs in place"
