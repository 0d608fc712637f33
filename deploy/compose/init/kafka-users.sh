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

# NCB gateways: each authenticates as ncb-<CODE> and may only write the inbound topic and
# read nothing else. (Per-NCB inbound and notice topics, which make "its own only" an ACL,
# come with source binding: see the top-level README, Security.)
for ncb in $NCBS; do
  var="NCB_PASSWORD_${ncb}"
  scram "ncb-${ncb}" "${!var}"
  acl --allow-principal "User:ncb-${ncb}" --operation Write --operation Describe --topic hst.inbound
  acl --allow-principal "User:ncb-${ncb}" --operation IdempotentWrite --cluster
done
echo "users and ACLs in place"
