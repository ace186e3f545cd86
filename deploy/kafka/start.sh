#!/bin/sh
# One KRaft broker+controller: write server.properties from the KAFKA_* environment (the image's
# convention), format the log directory on first start with the SCRAM credentials of the brokers,
# the deploy job and the services (read from mounted secrets, never from the environment), then run.
set -eu
config=/tmp/server.properties
env | grep '^KAFKA_' | grep -v '^KAFKA_OPTS=' | while IFS='=' read -r name value; do
  key=$(echo "${name#KAFKA_}" | tr 'A-Z' 'a-z' | sed 's/__/-/g; s/_/./g')
  echo "$key=$value"
done > "$config"
echo "node.id=$KAFKA_NODE_ID" >> "$config"
password() { cat "/run/secrets/$1"; }
cat >> "$config" <<PROPERTIES
listener.name.internal.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="broker" password="$(password kafka-broker-password)";
listener.name.client.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
PROPERTIES
# The health check's client: this broker's own principal, on localhost (not the name in the certificate).
{ cat /opt/lantern/client.properties; echo "ssl.endpoint.identification.algorithm="
  echo "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"broker\" password=\"$(password kafka-broker-password)\";"
} > /tmp/health.properties
chmod 600 /tmp/health.properties "$config"
if [ ! -f /var/lib/kafka/data/meta.properties ]; then
  scram() { echo "SCRAM-SHA-512=[name=$1,password=$(password "$2")]"; }
  /opt/kafka/bin/kafka-storage.sh format --config "$config" --cluster-id "$CLUSTER_ID" \
    --add-scram "$(scram broker kafka-broker-password)" \
    --add-scram "$(scram lantern-deploy kafka-deploy-password)" \
    --add-scram "$(scram lantern-intake kafka-intake-password)" \
    --add-scram "$(scram lantern-triage kafka-triage-password)" \
    --add-scram "$(scram lantern-disclosure kafka-disclosure-password)" \
    --add-scram "$(scram lantern-referral kafka-referral-password)" \
    --add-scram "$(scram lantern-monitoring kafka-monitoring-password)"
fi
exec /opt/kafka/bin/kafka-server-start.sh "$config"
