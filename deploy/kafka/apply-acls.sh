#!/bin/sh
# Apply deploy/kafka/acls.sh (generated: `lantern deploy acls > deploy/kafka/acls.sh`) as the deploy
# principal. Adding an ACL that exists changes nothing, so this is safe to run again.
set -eu
ADMIN_CONFIG=/tmp/admin.properties
cp /opt/lantern/client.properties "$ADMIN_CONFIG"
echo "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"lantern-deploy\" password=\"$(cat /run/secrets/kafka-deploy-password)\";" >> "$ADMIN_CONFIG"
export ADMIN_CONFIG PATH="/opt/kafka/bin:$PATH"
. /opt/lantern/acls.sh
