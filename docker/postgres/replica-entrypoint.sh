#!/bin/bash
# A streaming replica of $PRIMARY_HOST: on first start, clone the primary with pg_basebackup (-R writes
# standby.signal and primary_conninfo), then hand over to the official image's entrypoint, which finds a data
# directory and starts the server with its defaults.
set -euo pipefail
export PGDATA="${PGDATA:-/var/lib/postgresql/data}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  mkdir -p "$PGDATA" && chown postgres:postgres "$PGDATA" && chmod 0700 "$PGDATA"
  until pg_isready -h "$PRIMARY_HOST" -p 5432 -q; do sleep 1; done
  echo "*:*:*:replicator:${REPLICATION_PASSWORD}" > /tmp/pgpass && chown postgres /tmp/pgpass && chmod 0600 /tmp/pgpass
  until gosu postgres env PGPASSFILE=/tmp/pgpass pg_basebackup -h "$PRIMARY_HOST" -p 5432 -U replicator \
      -D "$PGDATA" -X stream -R -C -S "$NODE_NAME" -d "application_name=$NODE_NAME passfile=/tmp/pgpass"; do
    echo "replica $NODE_NAME: the primary is not ready for a base backup yet; retrying" >&2
    rm -rf "${PGDATA:?}"/*
    sleep 2
  done
  # later connections (after a repoint by Baton) find the password in the postgres user's .pgpass
  cp /tmp/pgpass /var/lib/postgresql/.pgpass && chown postgres /var/lib/postgresql/.pgpass && chmod 0600 /var/lib/postgresql/.pgpass
fi
exec docker-entrypoint.sh postgres
