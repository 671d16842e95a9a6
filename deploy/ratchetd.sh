#!/usr/bin/env bash
# Starts or stops a background ratchetd for `make run` / `make stop`.
#   deploy/ratchetd.sh start BUILD_DIR   start (or keep) ratchetd on 127.0.0.1:7070, ./ratchet-data,
#                                        with /metrics, the JSON API and the dashboard on
#                                        http://127.0.0.1:7071 (RATCHET_HTTP_LISTEN overrides)
#   deploy/ratchetd.sh stop              SIGTERM it and wait for its graceful shutdown
# State: ./ratchetd.pid, log in ./ratchetd.log. Other settings: RATCHET_* variables.
set -euo pipefail
pid_file=ratchetd.pid
log_file=ratchetd.log

running() { [ -f "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null; }

case "${1:-}" in
  start)
    build_dir=${2:-build}
    if running; then
      echo "ratchetd: already running (pid $(cat "$pid_file"))"
      exit 0
    fi
    rm -f ratchetd.port
    http_listen=${RATCHET_HTTP_LISTEN:-127.0.0.1:7071}  # ratchetd's default
    nohup "./$build_dir/api/server/ratchetd" --port-file ratchetd.port >>"$log_file" 2>&1 &
    echo $! >"$pid_file"
    for _ in $(seq 1 100); do
      if [ -f ratchetd.port ]; then
        echo "ratchetd: serving on port $(cat ratchetd.port) (pid $(cat "$pid_file"), log $log_file, data ./ratchet-data)"
        echo "ratchetd: dashboard at http://$http_listen/ui/ (sign in with an empty token: no auth file)"
        exit 0
      fi
      if ! running; then
        echo "ratchetd: failed to start; last log lines:" >&2
        tail -n 5 "$log_file" >&2
        exit 1
      fi
      sleep 0.1
    done
    echo "ratchetd: not serving after 10 s; see $log_file" >&2
    exit 1
    ;;
  stop)
    if ! running; then
      echo "ratchetd: not running"
      rm -f "$pid_file"
      exit 0
    fi
    pid=$(cat "$pid_file")
    kill -TERM "$pid"
    for _ in $(seq 1 300); do
      if ! kill -0 "$pid" 2>/dev/null; then
        rm -f "$pid_file" ratchetd.port
        echo "ratchetd: stopped"
        exit 0
      fi
      sleep 0.1
    done
    echo "ratchetd: still running after 30 s (pid $pid)" >&2
    exit 1
    ;;
  *)
    echo "usage: $0 start [BUILD_DIR] | stop" >&2
    exit 2
    ;;
esac
