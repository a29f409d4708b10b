#!/usr/bin/env bash
# Prints each cluster's primary record (node, address, epoch) and the switchover / unconfirmed-primary hold node
# every time they change, until Ctrl-C. Usage: zk-scripts/watch-primary.sh --config baton.yml [--cluster orders]
set -euo pipefail
exec "$(dirname "$0")/../bin/baton" zk watch "$@"
