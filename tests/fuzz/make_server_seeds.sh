#!/usr/bin/env bash
# Writes the server target's seed corpus (tests/fuzz/corpus/server) from the
# request scenarios below: each line is "METHOD_INDEX MESSAGE TEXTPROTO",
# encoded with protoc --encode and framed as server_fuzz.cc reads it
# ([method byte][length, 2 bytes LE][bytes]). Method indexes are the order of
# kMethods in server_fuzz.cc; 36 advances the clock (TEXTPROTO is then the
# milliseconds, a 4-byte LE number). Run from anywhere; needs protoc.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
proto=$here/../../api/proto
out=$here/corpus/server
mkdir -p "$out"

frame() {  # frame INDEX FILE: appends the framed FILE to stdout
  local n
  n=$(stat -c %s "$2")
  printf "\\x$(printf %02x "$1")\\x$(printf %02x $((n & 255)))\\x$(printf %02x $((n >> 8)))"
  cat "$2"
}

seed() {  # seed NAME < scenario
  local name=$1 tmp
  tmp=$(mktemp)
  : >"$out/$name"
  while IFS='|' read -r index message text; do
    [ -n "$index" ] || continue
    if [ "$index" -eq 36 ]; then
      printf "\\x$(printf %02x $((text & 255)))\\x$(printf %02x $(((text >> 8) & 255)))\\x$(printf %02x $(((text >> 16) & 255)))\\x$(printf %02x $(((text >> 24) & 255)))" >"$tmp"
    else
      echo "$text" | protoc -I"$proto" -I/usr/include --encode="ratchet.v1.$message" \
        "$proto"/ratchet/v1/*.proto >"$tmp"
    fi
    frame "$index" "$tmp" >>"$out/$name"
  done
  rm -f "$tmp"
}

seed lifecycle <<'S'
0|EnqueueRequest|job { queue: "q" job_type: "t" payload: "hello" idempotency_key: "k1" }
0|EnqueueRequest|job { queue: "q" job_type: "t" payload: "hello" idempotency_key: "k1" }
5|LeaseRequest|queue: "q" max_jobs: 1 worker_id: "w1" visibility_timeout { seconds: 30 }
6|HeartbeatRequest|job_id: 1 fencing_token: 1 extension { seconds: 60 }
7|CompleteRequest|job_id: 1 fencing_token: 1 result: "done"
2|GetJobRequest|job_id: 1
3|ListJobsRequest|queue: "q" state: JOB_STATE_COMPLETED limit: 10
S

seed dead_letters <<'S'
0|EnqueueRequest|job { queue: "d" job_type: "t" payload: "x" max_attempts: 1 }
5|LeaseRequest|queue: "d" worker_id: "w"
9|FailRequest|job_id: 1 fencing_token: 1 error: "boom" non_retryable: true
17|ListDeadLettersRequest|queue: "d" limit: 10
18|RedriveDeadLettersRequest|filter { queue: "d" } reset_attempts: true
5|LeaseRequest|queue: "d" worker_id: "w"
10|FailBatchRequest|items { job_id: 1 fencing_token: 2 error: "again" non_retryable: true }
19|PurgeDeadLettersRequest|filter { queue: "d" limit: 5 }
4|CancelJobRequest|job_id: 1
S

seed queues <<'S'
14|UpdateQueueRequest|queue: "q" concurrency_limit: 1 max_attempts: 3 visibility_timeout { seconds: 10 }
15|PauseQueueRequest|queue: "q"
1|EnqueueBatchRequest|jobs { queue: "q" job_type: "a" payload: "1" } jobs { queue: "q" job_type: "b" payload: "2" delay { seconds: 5 } priority: 5 }
16|ResumeQueueRequest|queue: "q"
13|GetQueueRequest|queue: "q"
12|ListQueuesRequest|
5|LeaseRequest|queue: "q" max_jobs: 2 worker_id: "w"
11|CompleteAndLeaseRequest|complete { job_id: 1 fencing_token: 1 result: "r" } lease { queue: "q" worker_id: "w" }
8|CompleteBatchRequest|items { job_id: 2 fencing_token: 2 }
S

seed dag_workflow <<'S'
20|SubmitWorkflowRequest|name: "etl" queue: "wf" idempotency_key: "etl-1" steps { name: "a" job_type: "extract" payload: "in" } steps { name: "b" job_type: "load" depends_on: "a" continue_on_failure: true }
5|LeaseRequest|queue: "wf" worker_id: "w"
7|CompleteRequest|job_id: 1 fencing_token: 1 result: "out"
22|GetWorkflowRequest|workflow_id: 1
23|ListWorkflowsRequest|limit: 5
24|CancelWorkflowRequest|workflow_id: 1
S

seed code_workflow <<'S'
21|StartWorkflowRequest|name: "order" queue: "c" job_type: "order" payload: "p" events: "paid"
5|LeaseRequest|queue: "c" worker_id: "w"
26|RecordStepRequest|job_id: 1 fencing_token: 1 entry { name: "charge" result: "ok" }
27|SuspendWorkflowRequest|job_id: 1 fencing_token: 1 awaiting_event: "paid" record { name: "reserve" result: "r" }
25|SendEventRequest|workflow_id: 1 name: "paid" payload: "42"
22|GetWorkflowRequest|workflow_id: 1
S

seed schedules <<'S'
28|CreateScheduleRequest|schedule { id: "s1" spec: "*/5 * * * *" time_zone: "Europe/Berlin" queue: "s" job_type: "tick" jitter { seconds: 1 } }
29|UpdateScheduleRequest|schedule { id: "s1" spec: "@every 90s" queue: "s" job_type: "tick" }
36||600000
12|ListQueuesRequest|
32|ListSchedulesRequest|
35|TriggerScheduleRequest|id: "s1"
33|PauseScheduleRequest|id: "s1"
34|ResumeScheduleRequest|id: "s1"
31|GetScheduleRequest|id: "s1"
30|DeleteScheduleRequest|id: "s1"
S
ls -l "$out"
