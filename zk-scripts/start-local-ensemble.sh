#!/usr/bin/env bash
# Starts a throwaway ZooKeeper ensemble on this machine (1 or 3 servers on free loopback ports) and prints its
# connect string. Its data lives in a temporary directory that is removed when you press Ctrl-C.
# Usage: zk-scripts/start-local-ensemble.sh [--nodes 1|3]
set -euo pipefail
exec "$(dirname "$0")/../bin/baton" zk serve "$@"
