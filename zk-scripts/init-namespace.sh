#!/usr/bin/env bash
# Creates Baton's namespace and every configured cluster's nodes in ZooKeeper. With zookeeper.digest set in the
# configuration (user:password, e.g. from ${BATON_ZK_DIGEST}), the nodes get ACLs: Baton's orchestrators and
# CLI (which share the digest) may write, everyone may read, so applications' wrappers need no credentials.
# Idempotent. Usage: zk-scripts/init-namespace.sh --config baton.yml
set -euo pipefail
exec "$(dirname "$0")/../bin/baton" zk init "$@"
