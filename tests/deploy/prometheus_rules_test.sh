#!/usr/bin/env bash
# deploy/prometheus/ratchet-alerts.yml passes `promtool check rules`, and its
# unit tests (ratchet-alerts.test.yml: each alert fires on the series it is
# meant for, after its `for`, and not before) pass `promtool test rules`.
# That every metric the rules name exists in ratchetd's /metrics is checked
# by tests/e2e/metrics_test.cc.
#   tests/deploy/prometheus_rules_test.sh DIR
set -euo pipefail
dir=${1:?usage: $0 DEPLOY_PROMETHEUS_DIR}
if ! command -v promtool >/dev/null; then
  echo "promtool not found (package prometheus)" >&2
  exit 1
fi
cd "$dir"
promtool check rules ratchet-alerts.yml
promtool test rules ratchet-alerts.test.yml
