#!/usr/bin/env bash
# Prints every node of Baton's registry with its content: primary record and epoch, node states, history,
# requests, leader latch and lock participants. Usage: zk-scripts/dump-registry.sh --config baton.yml
set -euo pipefail
exec "$(dirname "$0")/../bin/baton" zk dump "$@"
