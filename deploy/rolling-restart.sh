#!/usr/bin/env bash
# Restart branchbot workers one at a time, each only once the one before answers healthy again,
# so the proxy always has workers to send updates to:
#   deploy/rolling-restart.sh 8441 8442 8443
# Run `systemctl start branchbot-upgrade.service` first when the release changes the schema.
set -euo pipefail

wait_healthy() {  # port
  local port=$1 status
  for _ in $(seq 1 60); do
    status=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${port}/healthz" || true)
    case "$status" in
      200) return 0 ;;
      # a release without GET /healthz (before issue 15) answers 404 once it listens
      404) echo "  worker ${port} listens (no /healthz in this release)"; return 0 ;;
    esac
    sleep 1
  done
  echo "worker ${port} is not healthy after 60 s; stopping the roll here" >&2
  systemctl status --no-pager "branchbot@${port}.service" >&2 || true
  return 1
}

[ "$#" -gt 0 ] || { echo "usage: $0 PORT [PORT...]" >&2; exit 2; }
for port in "$@"; do
  echo "restarting branchbot@${port}"
  systemctl restart "branchbot@${port}.service"
  wait_healthy "$port"
done
echo "all restarted"
