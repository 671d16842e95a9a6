#!/usr/bin/python3
"""Drives ratchetd through Python stubs generated from the shipped protos.

Generates the stubs with Debian's tools (protoc's --python_out and gRPC's
/usr/bin/grpc_python_plugin; python3-grpc-tools in Debian 12 is gRPC 1.14,
too old), checks the package options other generators need (go_package,
java_package, ...) in the descriptor set, then starts ratchetd on a fresh
data directory and, through the generated stubs only: enqueues a job with an
idempotency key (twice: the second is a duplicate of the first), leases,
heartbeats and completes it, reads it back COMPLETED with its result, and
checks the error mapping (INVALID_ARGUMENT naming `job.queue`,
FAILED_PRECONDITION/LEASE_LOST for a stale fencing token) including the
google.rpc.ErrorInfo in the status details.

Run with Debian's python (python3-grpcio, python3-protobuf):
  /usr/bin/python3 tests/e2e/python_client_test.py \
      --ratchetd build/api/server/ratchetd --proto-dir api/proto
Exits 0 on success, 1 with a message on the first failure. ratchetd is always
stopped; its log and the temporary folder are kept on failure.
"""

import argparse
import importlib
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

# The options every ratchet/v1 file declares (api/proto/ratchet/v1/*.proto),
# and the upstream values of the vendored files' go_package.
RATCHET_OPTIONS = {
    "go_package": "github.com/ratchet-dev/ratchet/gen/go/ratchet/v1;ratchetv1",
    "java_package": "dev.ratchet.v1",
    "java_multiple_files": True,
    "csharp_namespace": "Ratchet.V1",
    "php_namespace": "Ratchet\\V1",
    "ruby_package": "Ratchet::V1",
    "objc_class_prefix": "RTV",
}
VENDORED_GO_PACKAGE = {
    "google/rpc/status.proto": "google.golang.org/genproto/googleapis/rpc/status;status",
    "google/rpc/error_details.proto":
        "google.golang.org/genproto/googleapis/rpc/errdetails;errdetails",
    "grpc/health/v1/health.proto": "google.golang.org/grpc/health/grpc_health_v1",
}
RPC_TIMEOUT = 10  # seconds, every call


class Failure(Exception):
    pass


def check(cond, message):
    if not cond:
        raise Failure(message)


def step(message):
    print("ok:", message, flush=True)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--ratchetd", required=True, help="the ratchetd binary")
    p.add_argument("--proto-dir", required=True, help="api/proto (the import root)")
    p.add_argument("--protoc", default="/usr/bin/protoc")
    p.add_argument("--grpc-python-plugin", default="/usr/bin/grpc_python_plugin")
    p.add_argument("--keep", action="store_true", help="keep the temporary folder")
    return p.parse_args()


def import_grpc():
    try:
        grpc = importlib.import_module("grpc")
        importlib.import_module("google.protobuf.descriptor_pb2")
    except ImportError as e:
        raise Failure(
            f"{e}: run with Debian's /usr/bin/python3 and install python3-grpcio and "
            f"python3-protobuf (deploy/install-deps.sh); this is {sys.executable}")
    return grpc


def find_protos(proto_dir):
    protos = []
    for root, _, files in os.walk(proto_dir):
        for f in files:
            if f.endswith(".proto"):
                protos.append(os.path.relpath(os.path.join(root, f), proto_dir))
    protos.sort()
    check(any(p.startswith("ratchet/v1/") for p in protos),
          f"no ratchet/v1/*.proto under {proto_dir}")
    return protos


def generate(args, protos, gen_dir, descriptor_set):
    for tool in (args.protoc, args.grpc_python_plugin):
        check(os.access(tool, os.X_OK),
              f"{tool} is missing (Debian: protobuf-compiler, protobuf-compiler-grpc)")
    os.makedirs(gen_dir)
    cmd = [args.protoc, "-I", args.proto_dir,
           f"--python_out={gen_dir}", f"--grpc_python_out={gen_dir}",
           f"--plugin=protoc-gen-grpc_python={args.grpc_python_plugin}",
           f"--descriptor_set_out={descriptor_set}", "--include_imports"] + protos
    run = subprocess.run(cmd, capture_output=True, text=True)
    check(run.returncode == 0,
          f"protoc failed (exit {run.returncode}): {' '.join(cmd)}\n{run.stderr}")
    if run.stderr:
        print(f"protoc warned:\n{run.stderr}", flush=True)
    for p in protos:
        stem = os.path.join(gen_dir, p[:-len(".proto")])
        for suffix in ("_pb2.py", "_pb2_grpc.py"):
            check(os.path.exists(stem + suffix), f"protoc wrote no {stem + suffix}")
    step(f"generated Python stubs of {len(protos)} files into {gen_dir}")


def check_options(protos, descriptor_set):
    from google.protobuf import descriptor_pb2
    fds = descriptor_pb2.FileDescriptorSet()
    with open(descriptor_set, "rb") as f:
        fds.ParseFromString(f.read())
    files = {f.name: f for f in fds.file}
    for p in protos:
        check(p in files, f"{p} is not in the descriptor set")
    outer_names = set()
    ratchet = [p for p in protos if p.startswith("ratchet/v1/")]
    for p in ratchet:
        opts = files[p].options
        for name, want in RATCHET_OPTIONS.items():
            check(opts.HasField(name), f"{p} does not declare option {name}")
            got = getattr(opts, name)
            check(got == want, f"{p}: option {name} is {got!r}, want {want!r}")
        check(opts.HasField("java_outer_classname"), f"{p} has no java_outer_classname")
        outer = opts.java_outer_classname
        check(outer not in outer_names, f"{p}: java_outer_classname {outer} is used twice")
        outer_names.add(outer)
        for m in files[p].message_type:
            check(m.name != outer, f"{p}: java_outer_classname {outer} names a message")
    for p, want in VENDORED_GO_PACKAGE.items():
        if p in files:
            got = files[p].options.go_package
            check(got == want, f"{p}: go_package is {got!r}, want upstream's {want!r}")
    step(f"{len(ratchet)} ratchet/v1 files declare go_package {RATCHET_OPTIONS['go_package']!r}, "
         f"java_package and the other package options; vendored files keep upstream's")


def generate_go(args, protos, go_dir):
    """Go stubs too, when Debian's protoc-gen-go and protoc-gen-go-grpc are
    installed: protoc-gen-go refuses a file without go_package."""
    plugins = [shutil.which(p) for p in ("protoc-gen-go", "protoc-gen-go-grpc")]
    if None in plugins:
        print("skipped: Go stubs (protoc-gen-go, protoc-gen-go-grpc not installed)", flush=True)
        return
    ratchet = [p for p in protos if p.startswith("ratchet/v1/")]
    os.makedirs(go_dir)
    cmd = [args.protoc, "-I", args.proto_dir, f"--plugin=protoc-gen-go={plugins[0]}",
           f"--plugin=protoc-gen-go-grpc={plugins[1]}",
           f"--go_out={go_dir}", "--go_opt=paths=source_relative",
           f"--go-grpc_out={go_dir}", "--go-grpc_opt=paths=source_relative"] + ratchet
    run = subprocess.run(cmd, capture_output=True, text=True)
    check(run.returncode == 0,
          f"protoc --go_out failed (exit {run.returncode}): {' '.join(cmd)}\n{run.stderr}")
    package = "package " + RATCHET_OPTIONS["go_package"].split(";")[1] + "\n"
    for p in ratchet:
        path = os.path.join(go_dir, p[:-len(".proto")] + ".pb.go")
        check(os.path.exists(path), f"protoc-gen-go wrote no {path}")
        with open(path) as f:
            check(package in f.read(), f"{path} does not declare {package.strip()}")
    step(f"generated Go stubs of {len(ratchet)} ratchet/v1 files ({package.strip()})")


def import_stubs(gen_dir):
    sys.path.insert(0, gen_dir)
    m = {}
    for name in ("types_pb2", "job_service_pb2", "job_service_pb2_grpc", "worker_service_pb2",
                 "worker_service_pb2_grpc"):
        m[name] = importlib.import_module("ratchet.v1." + name)
    m["status_pb2"] = importlib.import_module("google.rpc.status_pb2")
    m["error_details_pb2"] = importlib.import_module("google.rpc.error_details_pb2")
    # grpc/health/v1/health_pb2 would be the module grpc.health.v1.health_pb2,
    # which the grpc package (a regular package) shadows: load it by path.
    path = os.path.join(gen_dir, "grpc", "health", "v1", "health_pb2.py")
    spec = importlib.util.spec_from_file_location("ratchet_test_health_pb2", path)
    m["health_pb2"] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m["health_pb2"])
    step("imported the generated modules")
    return m


def die_with_parent():
    """In the child: SIGKILL when this test dies (even by SIGKILL)."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass  # the try/finally and the SIGTERM handler still stop it


def start_ratchetd(args, tmp):
    data_dir = os.path.join(tmp, "data")
    port_file = os.path.join(tmp, "port")
    log_path = os.path.join(tmp, "ratchetd.log")
    check(os.access(args.ratchetd, os.X_OK), f"{args.ratchetd} is not an executable")
    cmd = [args.ratchetd, "--listen", "127.0.0.1:0", "--data-dir", data_dir,
           "--port-file", port_file, "--http-listen", "127.0.0.1:0", "--log-level", "warn",
           "--shutdown-grace-ms", "500"]
    # The settings are the flags' alone: no RATCHET_* variable (or config file)
    # of the caller's environment.
    env = {k: v for k, v in os.environ.items() if not k.startswith("RATCHET_")}
    log = open(log_path, "wb")
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                            env=env, preexec_fn=die_with_parent)
    log.close()
    return proc, port_file, log_path


def wait_for_port(proc, port_file, log_path):
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if os.path.exists(port_file):  # written by rename: never partial
            with open(port_file) as f:
                return int(f.read().strip())
        check(proc.poll() is None,
              f"ratchetd exited with {proc.returncode} before serving:\n{tail(log_path)}")
        time.sleep(0.02)
    raise Failure(f"ratchetd wrote no port file in 15 s:\n{tail(log_path)}")


def stop_ratchetd(proc):
    """SIGTERM, then SIGKILL after 10 s; returns the exit status."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            return "killed after 10 s"
    return proc.returncode


def tail(path, lines=30):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:]) or "(empty log)"
    except OSError as e:
        return f"(no log: {e})"


def error_info(grpc_error, m):
    """The google.rpc.ErrorInfo in an error's grpc-status-details-bin."""
    details = dict(grpc_error.trailing_metadata() or ()).get("grpc-status-details-bin")
    check(details is not None, f"{grpc_error.code()} carries no grpc-status-details-bin")
    status = m["status_pb2"].Status()
    status.ParseFromString(details)
    check(status.code == grpc_error.code().value[0],
          f"google.rpc.Status code {status.code} != {grpc_error.code()}")
    for any_ in status.details:
        info = m["error_details_pb2"].ErrorInfo()
        if any_.Unpack(info):
            return info
    raise Failure(f"no google.rpc.ErrorInfo in the details of {grpc_error.code()}")


def expect_error(grpc, m, call, request, code, reason, mentions):
    try:
        call(request, timeout=RPC_TIMEOUT)
    except grpc.RpcError as e:
        check(e.code() == code, f"got {e.code()} ({e.details()}), want {code}")
        check(mentions in (e.details() or ""),
              f"{code} message {e.details()!r} does not name {mentions!r}")
        info = error_info(e, m)
        check(info.reason == reason and info.domain == "ratchet.dev",
              f"ErrorInfo is {info.reason}/{info.domain}, want {reason}/ratchet.dev")
        return e.details()
    raise Failure(f"call succeeded, want {code}")


def scenario(grpc, m, channel):
    from google.protobuf.duration_pb2 import Duration

    t, js, ws = m["types_pb2"], m["job_service_pb2"], m["worker_service_pb2"]
    jobs = m["job_service_pb2_grpc"].JobServiceStub(channel)
    worker = m["worker_service_pb2_grpc"].WorkerServiceStub(channel)
    health = m["health_pb2"]
    check_health = channel.unary_unary(
        "/grpc.health.v1.Health/Check",
        request_serializer=health.HealthCheckRequest.SerializeToString,
        response_deserializer=health.HealthCheckResponse.FromString)
    got = check_health(health.HealthCheckRequest(), timeout=RPC_TIMEOUT)
    check(got.status == health.HealthCheckResponse.SERVING, f"health: {got}")
    step("grpc.health.v1.Health/Check answers SERVING")

    queue, payload, result = "py-client", b"\x00payload\xff", b"\x01result\x00\xfe"
    spec = t.JobSpec(queue=queue, job_type="py.echo", payload=payload,
                     idempotency_key="py-client-test-1")
    first = jobs.Enqueue(js.EnqueueRequest(job=spec), timeout=RPC_TIMEOUT)
    check(first.job_id > 0 and not first.duplicate, f"first Enqueue: {first}")
    again = jobs.Enqueue(js.EnqueueRequest(job=spec), timeout=RPC_TIMEOUT)
    check(again.duplicate and again.job_id == first.job_id,
          f"repeated Enqueue: {again}, want duplicate of job {first.job_id}")
    job_id = first.job_id
    step(f"Enqueue: job {job_id}; the repeat with the same key is a duplicate of it")

    leased = worker.Lease(ws.LeaseRequest(queue=queue, max_jobs=1, worker_id="py-worker",
                                          visibility_timeout=Duration(seconds=30),
                                          wait=Duration(seconds=5)), timeout=RPC_TIMEOUT)
    check(len(leased.jobs) == 1, f"Lease: {len(leased.jobs)} jobs, want 1")
    lj = leased.jobs[0]
    check(lj.job_id == job_id and lj.payload == payload and lj.attempt == 1 and
          lj.fencing_token > 0 and lj.job_type == "py.echo", f"Lease: {lj}")
    check(lj.lease_duration.seconds == 30, f"lease_duration {lj.lease_duration}, want 30 s")
    token = lj.fencing_token
    step(f"Lease: job {job_id}, fencing token {token}")

    hb = worker.Heartbeat(ws.HeartbeatRequest(job_id=job_id, fencing_token=token,
                                              extension=Duration(seconds=60), progress=0.5,
                                              progress_message="half"), timeout=RPC_TIMEOUT)
    check(hb.lease_deadline.seconds > 0 and not hb.cancel_requested, f"Heartbeat: {hb}")
    running = jobs.GetJob(js.GetJobRequest(job_id=job_id), timeout=RPC_TIMEOUT)
    check(running.state == t.JOB_STATE_RUNNING and running.worker_id == "py-worker" and
          running.HasField("progress") and running.progress == 0.5 and
          running.progress_message == "half", f"GetJob after Heartbeat: {running}")
    step("Heartbeat: lease extended; GetJob shows RUNNING with the progress")

    worker.Complete(ws.CompleteRequest(job_id=job_id, fencing_token=token, result=result),
                    timeout=RPC_TIMEOUT)
    worker.Complete(ws.CompleteRequest(job_id=job_id, fencing_token=token, result=result),
                    timeout=RPC_TIMEOUT)  # idempotent
    done = jobs.GetJob(js.GetJobRequest(job_id=job_id), timeout=RPC_TIMEOUT)
    check(done.state == t.JOB_STATE_COMPLETED,
          f"GetJob: state {t.JobState.Name(done.state)}, want JOB_STATE_COMPLETED")
    check(done.result == result, f"GetJob: result {done.result!r}, want {result!r}")
    check(done.payload == payload and done.idempotency_key == "py-client-test-1" and
          done.attempts == 1 and done.HasField("finished_at"), f"GetJob: {done}")
    step("Complete (and its repeat); GetJob: JOB_STATE_COMPLETED with the result bytes")

    message = expect_error(grpc, m, jobs.Enqueue,
                           js.EnqueueRequest(job=t.JobSpec(queue="", job_type="py.echo")),
                           grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ARGUMENT", "job.queue")
    step(f"Enqueue with an empty queue: INVALID_ARGUMENT {message!r}")

    # A stale token: the job's first lease, after a failed attempt and a
    # second lease.
    retry = t.RetryPolicy(initial_backoff=Duration(nanos=1000000),
                          max_backoff=Duration(nanos=1000000), multiplier=1,
                          jitter=t.JITTER_NONE)
    other = jobs.Enqueue(js.EnqueueRequest(job=t.JobSpec(
        queue=queue, job_type="py.flaky", max_attempts=3, retry_policy=retry)),
        timeout=RPC_TIMEOUT).job_id
    lease_req = ws.LeaseRequest(queue=queue, max_jobs=1, worker_id="py-worker",
                                wait=Duration(seconds=5))
    first_lease = worker.Lease(lease_req, timeout=RPC_TIMEOUT).jobs
    check(len(first_lease) == 1 and first_lease[0].job_id == other, f"Lease: {first_lease}")
    stale = first_lease[0].fencing_token
    failed = worker.Fail(ws.FailRequest(job_id=other, fencing_token=stale, error="boom"),
                         timeout=RPC_TIMEOUT)
    check(failed.state == t.JOB_STATE_SCHEDULED, f"Fail: {failed}, want a retry")
    second_lease = worker.Lease(lease_req, timeout=RPC_TIMEOUT).jobs
    check(len(second_lease) == 1 and second_lease[0].job_id == other and
          second_lease[0].attempt == 2 and second_lease[0].fencing_token > stale,
          f"second Lease: {second_lease}")
    current = second_lease[0].fencing_token
    message = expect_error(grpc, m, worker.Complete,
                           ws.CompleteRequest(job_id=other, fencing_token=stale),
                           grpc.StatusCode.FAILED_PRECONDITION, "LEASE_LOST", str(stale))
    step(f"Complete with stale token {stale}: FAILED_PRECONDITION/LEASE_LOST {message!r}")
    worker.Complete(ws.CompleteRequest(job_id=other, fencing_token=current),
                    timeout=RPC_TIMEOUT)
    done = jobs.GetJob(js.GetJobRequest(job_id=other), timeout=RPC_TIMEOUT)
    check(done.state == t.JOB_STATE_COMPLETED and done.attempts == 2 and
          [e.message for e in done.errors] == ["boom"], f"GetJob: {done}")
    step(f"Complete with the current token {current}: COMPLETED after 2 attempts")

    expect_error(grpc, m, jobs.GetJob, js.GetJobRequest(job_id=job_id + 1000),
                 grpc.StatusCode.NOT_FOUND, "NOT_FOUND", str(job_id + 1000))
    step("GetJob of an unknown job: NOT_FOUND")


def main():
    args = parse_args()
    # A SIGTERM (ctest's timeout, a Ctrl-C'd make) still runs the finally below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("FAIL: terminated by SIGTERM"))
    started = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="ratchet-python-client-")
    proc = None
    ok = False
    try:
        grpc = import_grpc()
        protos = find_protos(args.proto_dir)
        descriptor_set = os.path.join(tmp, "ratchet.protoset")
        gen_dir = os.path.join(tmp, "gen")
        generate(args, protos, gen_dir, descriptor_set)
        check_options(protos, descriptor_set)
        generate_go(args, protos, os.path.join(tmp, "go"))
        m = import_stubs(gen_dir)

        proc, port_file, log_path = start_ratchetd(args, tmp)
        port = wait_for_port(proc, port_file, log_path)
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        try:
            try:
                grpc.channel_ready_future(channel).result(timeout=10)
            except grpc.FutureTimeoutError:
                raise Failure(f"no connection to ratchetd on port {port} in 10 s:\n"
                              f"{tail(log_path)}")
            step(f"ratchetd serves on 127.0.0.1:{port}")
            scenario(grpc, m, channel)
        finally:
            channel.close()
        status = stop_ratchetd(proc)
        check(status == 0, f"ratchetd exited with {status} after SIGTERM:\n{tail(log_path)}")
        step("ratchetd stopped with exit status 0 on SIGTERM")
        ok = True
    except Failure as e:
        print(f"FAIL: {e}", file=sys.stderr)
    except Exception as e:  # an RpcError we did not expect, or a bug here
        import traceback
        traceback.print_exc()
        print(f"FAIL: unexpected {type(e).__name__}: {e}", file=sys.stderr)
    finally:
        if proc is not None and proc.poll() is None:
            stop_ratchetd(proc)
        if ok and not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"kept {tmp}", file=sys.stderr)
    if not ok:
        return 1
    print(f"PASS python_client_test ({time.monotonic() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
