#!/usr/bin/env bash
# deploy/systemd/ratchetd.service passes `systemd-analyze verify` with no
# warning (unknown keys and bad values are only warnings there, so any output
# fails), with ExecStart pointed at the built ratchetd, and keeps the
# hardening the operations issue asks for.
#   tests/deploy/systemd_unit_test.sh UNIT RATCHETD
set -euo pipefail
unit=${1:?usage: $0 UNIT RATCHETD}
ratchetd=${2:?usage: $0 UNIT RATCHETD}
if ! command -v systemd-analyze >/dev/null; then
  echo "systemd-analyze not found (package systemd)" >&2
  exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sed "s#/usr/local/bin/ratchetd#$ratchetd#" "$unit" >"$work/ratchetd.service"
out=$(cd "$work" && systemd-analyze verify "$work/ratchetd.service" 2>&1) || {
  echo "systemd-analyze verify failed:" >&2
  echo "$out" >&2
  exit 1
}
if [ -n "$out" ]; then
  echo "systemd-analyze verify warned:" >&2
  echo "$out" >&2
  exit 1
fi
for want in 'User=ratchet' 'ProtectSystem=strict' 'ReadWritePaths=/var/lib/ratchet' \
  'NoNewPrivileges=true' 'LimitNOFILE=' 'KillSignal=SIGTERM' 'TimeoutStopSec='; do
  if ! grep -q "^$want" "$unit"; then
    echo "$unit: missing $want" >&2
    exit 1
  fi
done
echo "ok: $unit"
