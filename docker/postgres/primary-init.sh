#!/bin/bash
# Runs once, when the official image initialises the primary's data directory: the roles Baton and the replicas
# use, and a pg_hba line for replication connections (the image's own line covers every database, not replication).
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres <<SQL
CREATE ROLE baton WITH LOGIN SUPERUSER PASSWORD '${BATON_PASSWORD}';
CREATE ROLE replicator WITH LOGIN REPLICATION PASSWORD '${REPLICATION_PASSWORD}';
SQL
echo "host replication replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
