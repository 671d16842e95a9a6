#!/usr/bin/python3
"""Browser test of the ratchetd dashboard and its HTTP/JSON API.

Starts ratchetd with an auth file (an admin and a read-only viewer), seeds
queues, jobs in every state, dead letters, a workflow and schedules through
the JSON API, then drives headless Chromium through every dashboard page:
what each page shows is compared with the gRPC answers (the ratchet CLI with
--json), mutations are made through the UI and checked through gRPC, and the
security rules are checked (hostile payloads shown as text, CSRF, read-only
principals, JSON error mapping). Screenshots of each page go to --out.

Run with Debian's python3 (python3-selenium), chromium and chromedriver:

  /usr/bin/python3 tests/e2e/dashboard_test.py --ratchetd build/api/server/ratchetd \
      --cli build/client/ratchet --out build/dashboard-screenshots

--assets DIR serves the dashboard from DIR (RATCHET_DASHBOARD_DIR) instead
of the copy compiled into ratchetd. Exit status 0 when every check passed.
"""

import argparse
import base64
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
WAIT_S = 10

XSS_PAYLOAD = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'
HOSTILE_WORKER = 'mailer-1 <img src=x onerror="window.__pwned=4">'
HOSTILE_ERROR = 'SMTP 550 <img src=x onerror="window.__pwned=3"> mailbox unavailable'
HOSTILE_PROGRESS = 'step 2 of 5 <b onmouseover="window.__pwned=5">bold</b>'
EXPECTED_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; "
                "frame-ancestors 'none'")


# ---- results -----------------------------------------------------------------

class Results:
    def __init__(self):
        self.passed = 0
        self.failures = []

    def check(self, ok, what, detail=""):
        if ok:
            self.passed += 1
        else:
            self.failures.append(f"{what}: {detail}" if detail else what)
            print(f"  FAIL {what}" + (f": {detail}" if detail else ""), flush=True)
        return ok

    def equal(self, got, want, what):
        return self.check(got == want, what, f"got {got!r}, want {want!r}")

    def error(self, step, exc):
        self.failures.append(f"{step}: {type(exc).__name__}: {exc}")
        print(f"  FAIL {step} raised {type(exc).__name__}: {exc}", flush=True)
        traceback.print_exc()


R = Results()


def step(name):
    """Runs the decorated step at once; an exception fails it and the test goes on."""
    def run(fn):
        started = time.monotonic()
        print(f"== {name}", flush=True)
        try:
            fn()
        except Exception as exc:  # noqa: BLE001 - report and continue
            R.error(name, exc)
        print(f"   ({time.monotonic() - started:.1f} s)", flush=True)
        return fn
    return run


# ---- ratchetd ----------------------------------------------------------------

def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sha256_hex(text):
    return hashlib.sha256(text.encode()).hexdigest()


class Ratchetd:
    def __init__(self, binary, cli, tmp, assets):
        self.binary = os.path.abspath(binary)
        self.cli = os.path.abspath(cli)
        self.tmp = tmp
        self.assets = assets
        self.admin_token = secrets.token_hex(32)
        self.viewer_token = secrets.token_hex(32)
        self.emailop_token = secrets.token_hex(32)
        self.grpc_port = free_port()
        self.http_port = free_port()
        self.base = f"http://127.0.0.1:{self.http_port}"
        self.proc = None
        self.log_path = os.path.join(tmp, "ratchetd.log")

    def start(self):
        auth = os.path.join(self.tmp, "auth.toml")
        with open(auth, "w") as f:
            f.write(f"""
[[principal]]
name = "admin"
token_sha256 = ["{sha256_hex(self.admin_token)}"]
requests_per_second = 0
grants = [{{ role = "admin", queues = "*" }}]

[[principal]]
name = "viewer"
token_sha256 = ["{sha256_hex(self.viewer_token)}"]
requests_per_second = 0
grants = [{{ role = "viewer", queues = "*" }}]

[[principal]]
name = "emailop"
token_sha256 = ["{sha256_hex(self.emailop_token)}"]
requests_per_second = 0
grants = [{{ role = "operator", queues = "emails" }}, {{ role = "viewer", queues = "*" }}]
""")
        env = dict(os.environ)
        env.pop("RATCHET_DASHBOARD_DIR", None)
        if self.assets:
            env["RATCHET_DASHBOARD_DIR"] = os.path.abspath(self.assets)
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [self.binary, "--data-dir", os.path.join(self.tmp, "data"),
             "--listen", f"127.0.0.1:{self.grpc_port}",
             "--http-listen", f"127.0.0.1:{self.http_port}", "--auth-file", auth],
            stdout=self.log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"ratchetd exited with {self.proc.returncode}:\n{self.tail()}")
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=1) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            time.sleep(0.05)
        raise RuntimeError(f"ratchetd did not answer /healthz within 20 s:\n{self.tail()}")

    def tail(self, lines=30):
        try:
            with open(self.log_path) as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "log", None):
            self.log.close()

    # -- the CLI (gRPC) --

    def cli_json(self, *args, ok=True):
        env = dict(os.environ, RATCHET_TOKEN=self.admin_token)
        p = subprocess.run([self.cli, "--server", f"127.0.0.1:{self.grpc_port}", "--json", *args],
                           capture_output=True, text=True, env=env, timeout=20)
        if ok and p.returncode != 0:
            raise RuntimeError(f"ratchet {' '.join(args)} exited {p.returncode}: {p.stderr.strip()}")
        if p.returncode != 0:
            return None
        return json.loads(p.stdout) if p.stdout.strip() else {}

    # -- HTTP --

    def http(self, method, path, body=None, token=None, cookie=None, csrf=None, raw=None, headers=None):
        """(status, parsed JSON or None, response headers)."""
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        if cookie:
            req.add_header("Cookie", f"ratchet_session={cookie}")
        if csrf:
            req.add_header("X-CSRF-Token", csrf)
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=15) as r:
                status, text, hdrs = r.status, r.read(), r.headers
        except urllib.error.HTTPError as e:
            status, text, hdrs = e.code, e.read(), e.headers
        try:
            parsed = json.loads(text) if text.strip() else None
        except ValueError:
            parsed = None
        return status, parsed, hdrs

    def rpc(self, service, method, body, token=None):
        status, out, _ = self.http("POST", f"/v1/{service}/{method}", body, token=token or self.admin_token)
        if status != 200:
            raise RuntimeError(f"{service}/{method} {json.dumps(body)[:200]} -> {status} {out}")
        return out


def b64(data):
    return base64.b64encode(data if isinstance(data, bytes) else data.encode()).decode()


# ---- seeding -----------------------------------------------------------------

class Seed:
    """What the test created, by role."""


def seed(d):
    s = Seed()
    rpc = d.rpc

    def enqueue(queue, job_type, payload=b'{"to":"ada@example.com"}', **extra):
        return rpc("JobService", "Enqueue", {"job": {"queue": queue, "jobType": job_type,
                                                      "payload": b64(payload), **extra}})["jobId"]

    def lease_one(queue, worker="seed-worker"):
        r = rpc("WorkerService", "Lease", {"queue": queue, "maxJobs": 1, "workerId": worker,
                                           "visibilityTimeout": "600s", "wait": "2s"})
        jobs = r.get("jobs") or []
        if len(jobs) != 1:
            raise RuntimeError(f"lease on {queue} got {len(jobs)} jobs")
        return jobs[0]

    rpc("QueueService", "UpdateQueue", {"queue": "emails", "concurrencyLimit": 5,
                                        "rateLimit": {"limit": 1000, "period": "1s"}, "maxAttempts": 3})
    rpc("QueueService", "UpdateQueue", {"queue": "billing", "keyConcurrencyLimit": 2})

    # Dead letters: one attempt, failed for good. Each is the only available
    # job of its queue when leased.
    s.dead = {}
    for name, job_type in [("d1", "send_welcome"), ("d2", "send_receipt"), ("d3", "send_receipt"),
                           ("d4", "send_sms"), ("d5", "send_push")]:
        jid = enqueue("emails", job_type, maxAttempts=1)
        leased = lease_one("emails")
        assert leased["jobId"] == jid, (leased["jobId"], jid)
        r = rpc("WorkerService", "Fail", {"jobId": jid, "fencingToken": leased["fencingToken"],
                                          "error": HOSTILE_ERROR, "nonRetryable": True})
        assert r["state"] == "JOB_STATE_DEAD", r
        s.dead[name] = jid

    # 101 dead letters in one queue: paging and bulk calls that say `more`.
    batch = rpc("JobService", "EnqueueBatch", {"jobs": [
        {"queue": "imports", "jobType": "import_row", "payload": b64(f'{{"row":{i}}}'), "maxAttempts": 1}
        for i in range(101)]})
    s.imports = sorted(r["jobId"] for r in batch["results"])
    leased = []
    while len(leased) < 101:
        got = rpc("WorkerService", "Lease", {"queue": "imports", "maxJobs": 101 - len(leased),
                                             "workerId": "importer", "wait": "1s"}).get("jobs") or []
        if not got:
            raise RuntimeError(f"leased {len(leased)} of 101 imports")
        leased += got
    r = rpc("WorkerService", "FailBatch", {"items": [
        {"jobId": j["jobId"], "fencingToken": j["fencingToken"], "error": "bad row", "nonRetryable": True}
        for j in leased]})
    assert all(i["result"]["state"] == "JOB_STATE_DEAD" for i in r["items"]), r["items"][:2]

    # Completed, with a result.
    s.completed = enqueue("emails", "send_welcome")
    leased = lease_one("emails")
    rpc("WorkerService", "Complete", {"jobId": s.completed, "fencingToken": leased["fencingToken"],
                                      "result": b64('{"delivered":true}')})

    # Running, leased by a worker with a hostile id, with progress.
    s.running = enqueue("emails", "send_receipt", concurrencyKey="tenant-<acme>")
    leased = lease_one("emails", worker=HOSTILE_WORKER)
    s.running_token = leased["fencingToken"]
    rpc("WorkerService", "Heartbeat", {"jobId": s.running, "fencingToken": leased["fencingToken"],
                                       "progress": 0.4, "progressMessage": HOSTILE_PROGRESS})

    # Waiting: available and scheduled.
    s.available = [enqueue("emails", "send_welcome") for _ in range(3)]
    s.scheduled = [enqueue("emails", "send_digest", delay="3600s") for _ in range(2)]

    # Billing: the hostile payload, a binary payload, a cancelled job.
    s.xss = enqueue("billing", "charge", payload=XSS_PAYLOAD.encode(),
                    idempotencyKey='<img src=x onerror="window.__pwned=6">')
    s.binary = enqueue("billing", "charge", payload=bytes(range(0, 256, 5)))
    s.cancelled = enqueue("billing", "refund")
    rpc("JobService", "CancelJob", {"jobId": s.cancelled})

    # A DAG workflow: extract -> transform -> load -> notify (+ transform).
    s.workflow = rpc("WorkflowService", "SubmitWorkflow", {
        "name": "etl-nightly", "queue": "etl",
        "steps": [
            {"name": "extract", "jobType": "extract"},
            {"name": "transform", "jobType": "transform", "dependsOn": ["extract"]},
            {"name": "load", "jobType": "load", "dependsOn": ["transform"]},
            {"name": "notify", "jobType": "notify", "dependsOn": ["transform", "load"],
             "continueOnFailure": True},
        ]})["workflowId"]
    leased = lease_one("etl")
    rpc("WorkerService", "Complete", {"jobId": leased["jobId"], "fencingToken": leased["fencingToken"]})
    s.workflow_steps = {"extract": [], "transform": ["extract"], "load": ["transform"],
                        "notify": ["transform", "load"]}

    # Schedules: one active, one paused.
    rpc("ScheduleService", "CreateSchedule", {"schedule": {
        "id": "nightly-report", "spec": "0 3 * * *", "timeZone": "UTC",
        "queue": "reports", "jobType": "build_report"}})
    rpc("ScheduleService", "CreateSchedule", {"schedule": {
        "id": "hourly-sync", "spec": "@every 1h", "queue": "reports", "jobType": "sync",
        "paused": True}})
    return s


# ---- the browser -------------------------------------------------------------

class Browser:
    def __init__(self, base, out):
        self.base = base
        self.out = out
        opts = webdriver.ChromeOptions()
        opts.binary_location = CHROMIUM
        for a in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--window-size=1400,1000", "--lang=en-US", "--no-first-run"]:
            opts.add_argument(a)
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.d = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
        self.d.set_page_load_timeout(20)
        self.console = []

    def quit(self):
        try:
            self.d.quit()
        except WebDriverException:
            pass

    def js(self, script, *args):
        return self.d.execute_script(script, *args)

    def wait(self, predicate, what, timeout=WAIT_S):
        try:
            return WebDriverWait(self.d, timeout, poll_frequency=0.05,
                                 ignored_exceptions=(StaleElementReferenceException,)).until(lambda d: predicate())
        except TimeoutException:
            raise AssertionError(f"timed out waiting for {what}") from None

    def css(self, selector):
        return self.d.find_elements(By.CSS_SELECTOR, selector)

    def wait_css(self, selector, timeout=WAIT_S):
        return self.wait(lambda: (self.css(selector) or [None])[0], selector, timeout)

    def open(self, url):
        self.d.get(self.base + url)

    def go(self, hash_route):
        """Shows a route and waits until its page has rendered."""
        self.js("location.hash = arguments[0]", hash_route)
        return self.wait_ready(hash_route)

    def wait_ready(self, hash_route):
        def ready():
            return self.js("""
                const p = document.querySelector('#main > .page');
                return p && p.dataset.route === arguments[0] && p.dataset.ready || null;""", hash_route)
        state = self.wait(ready, f"page {hash_route} to render")
        if state == "error":
            text = self.js("return document.querySelector('#main').innerText")
            raise AssertionError(f"page {hash_route} shows an error: {text[:300]}")
        return state

    def main_text(self):
        return self.js("return document.querySelector('#main').innerText")

    def actions_shown(self):
        return self.js("""return Array.from(document.querySelectorAll('[data-action]'))
            .filter(e => !e.closest('#confirm-dialog')).map(e => e.dataset.action)""")

    def click(self, selector):
        """Clicks the first element matching `selector`, finding it again if
        the page re-rendered it between the lookup and the click (a poll tick
        or a flash replaced by the next one)."""
        def attempt():
            found = self.css(selector)
            if not found:
                return None
            found[0].click()
            return True
        self.wait(attempt, f"{selector} to click")

    def click_action(self, selector, confirm_contains=None):
        """Clicks a mutation button, checks and accepts its confirm dialog.
        The flash is hidden before the confirmation, so that a wait_flash
        after this sees the answer to this action, not the one before it
        (two slices of a bulk redrive answer with the same text)."""
        self.click(selector)
        dialog = self.wait_css("#confirm-dialog[open]")
        text = dialog.text
        if confirm_contains:
            for piece in confirm_contains:
                R.check(piece in text, f"confirm dialog for {selector} mentions {piece!r}", repr(text))
        self.js("const f = document.getElementById('flash'); if (f) f.hidden = true;")
        self.click('#confirm-dialog[open] [data-action="confirm"]')
        return text

    def wait_flash(self, pattern, kind="ok"):
        def got():
            t = self.js("""const f = document.getElementById('flash');
                return f && !f.hidden ? [f.dataset.kind || '', f.innerText] : null;""")
            if t and re.search(pattern, t[1]):
                return t
            if t and t[0] == "error":
                raise AssertionError(f"error flash: {t[1]}")
            return None
        kind_got, text = self.wait(got, f"flash matching {pattern!r}")
        R.equal(kind_got, kind, f"flash kind for {pattern!r}")
        return text

    def screenshot(self, name):
        height = self.js("return Math.max(document.documentElement.scrollHeight, 800)")
        self.d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": 1400, "height": min(int(height), 4000), "deviceScaleFactor": 1, "mobile": False})
        try:
            self.d.save_screenshot(os.path.join(self.out, name))
        finally:
            self.d.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})

    def sign_in(self, token, start="#/", screenshot=None):
        self.d.get("about:blank")  # a fresh document, not a same-page hash change
        self.open("/ui/" + start)
        field = self.wait_css("#login-token")
        if screenshot:
            self.screenshot(screenshot)
            # A wrong token first: refused, with a message, and still on the sign-in page.
            field.send_keys("not-a-token")
            self.wait_css("#login-submit").click()
            error = self.wait(lambda: (lambda e: e if e and e.is_displayed() else None)(
                (self.css("#login-error") or [None])[0]), "the sign-in error")
            R.check("not valid" in error.text, "wrong token refused on the sign-in page", error.text)
            field.clear()
        field.send_keys(token)
        self.wait_css("#login-submit").click()
        self.wait(lambda: self.js("return location.hash") == (start or "#/"), f"return to {start} after sign-in")
        self.wait_ready(start)

    def collect_console(self):
        try:
            self.console += self.d.get_log("browser")
        except WebDriverException:
            pass


# ---- helpers over the CLI's JSON (snake_case) --------------------------------

def ids(jobs_response):
    return sorted(j["id"] for j in jobs_response.get("jobs", []))


def page_ids(b, selector):
    return sorted(b.js(f"return Array.from(document.querySelectorAll('{selector}')).map(e => e.dataset.jobId)"))


def run(args):
    tmp = tempfile.mkdtemp(prefix="ratchet-dashboard-")
    os.makedirs(args.out, exist_ok=True)
    d = Ratchetd(args.ratchetd, args.cli, tmp, args.assets)
    b = None
    started = time.monotonic()
    try:
        print(f"ratchetd: gRPC 127.0.0.1:{d.grpc_port}, HTTP {d.base}, dir {tmp}", flush=True)
        d.start()
        s = seed(d)
        b = Browser(d.base, args.out)
        scenario(d, b, s)
    except Exception as exc:  # noqa: BLE001
        R.error("setup", exc)
    finally:
        if b:
            b.collect_console()
            for e in b.console:
                msg = e.get("message", "")
                if any(k in msg for k in ("Content Security Policy", "Refused to", "Uncaught", "TypeError")):
                    R.check(False, "browser console", msg[:300])
            b.quit()
        d.stop()
        if R.failures:
            print("---- ratchetd log (tail) ----\n" + d.tail(40))
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"\n{R.passed} checks passed, {len(R.failures)} failed, {time.monotonic() - started:.1f} s")
    for f in R.failures:
        print(f"FAILED: {f}")
    return 1 if R.failures else 0


def scenario(d, b, s):
    emails_dead_before = None

    @step("static files and security headers")
    def _():
        status, _, hdrs = d.http("GET", "/ui/")
        R.equal(status, 200, "GET /ui/ status")
        R.check("text/html" in (hdrs.get("Content-Type") or ""), "GET /ui/ is HTML", hdrs.get("Content-Type"))
        R.equal(hdrs.get("Content-Security-Policy"), EXPECTED_CSP, "CSP header")
        R.equal(hdrs.get("X-Content-Type-Options"), "nosniff", "X-Content-Type-Options")
        R.equal(hdrs.get("X-Frame-Options"), "DENY", "X-Frame-Options")
        R.equal(hdrs.get("Referrer-Policy"), "no-referrer", "Referrer-Policy")
        for path, ctype in [("/ui/app.js", "javascript"), ("/ui/style.css", "text/css"),
                            ("/ui/pages/job.js", "javascript"), ("/ui/favicon.svg", "image/svg+xml")]:
            status, _, hdrs = d.http("GET", path)
            R.equal(status, 200, f"GET {path}")
            R.check(ctype in (hdrs.get("Content-Type") or ""), f"{path} content type", hdrs.get("Content-Type"))
        status, _, _ = d.http("GET", "/ui/../../etc/passwd")
        R.check(status in (400, 403, 404), "path traversal refused", str(status))
        req = urllib.request.Request(d.base + "/", method="GET")
        opener = urllib.request.build_opener(NoRedirect)
        try:
            opener.open(req, timeout=5)
            R.check(False, "GET / redirects", "no redirect")
        except urllib.error.HTTPError as e:
            R.check(e.code in (301, 302, 303, 307, 308) and e.headers.get("Location", "").endswith("/ui/"),
                    "GET / redirects to /ui/", f"{e.code} {e.headers.get('Location')}")

    @step("sign in as admin through the login page")
    def _():
        b.sign_in(d.admin_token, "#/", screenshot="login.png")
        R.equal(b.wait_css("#principal").text, "admin", "principal in the header")
        R.check(not b.css("#read-only") or not b.css("#read-only")[0].is_displayed(), "admin is not read-only")
        cookie = b.d.get_cookie("ratchet_session")
        R.check(cookie is not None, "session cookie set")
        if cookie:
            R.check(cookie.get("httpOnly") is True, "session cookie is HttpOnly", repr(cookie))
            R.equal(cookie.get("sameSite"), "Strict", "session cookie SameSite")

    @step("overview matches ListQueues")
    def _():
        b.go("#/")
        want = {q["name"]: q for q in d.cli_json("queues", "list").get("queues", [])}
        R.check({"emails", "billing", "etl"} <= set(want), "queues exist", sorted(want))
        got = b.js("""return Array.from(document.querySelectorAll('#queues-table tr[data-queue]')).map(tr => {
            const c = {};
            tr.querySelectorAll('[data-count]').forEach(td => { c[td.dataset.count] = td.innerText.trim(); });
            return [tr.dataset.queue, c, !!tr.querySelector('.badge-paused'), tr.querySelectorAll('svg.sparkline').length];
          })""")
        R.equal(sorted(g[0] for g in got), sorted(want), "overview queue names")
        for name, counts, paused, sparks in got:
            q = want.get(name)
            if not q:
                continue
            for st in ["scheduled", "available", "running", "completed", "cancelled", "dead"]:
                R.equal(counts.get(st, "").replace(",", ""), str(q.get(st, "0")), f"overview {name} {st} count")
            R.equal(paused, bool(q["settings"].get("paused")), f"overview {name} paused")
            R.equal(sparks, 2, f"overview {name} sparklines")
        R.check(b.css("#latency-chart svg.line-chart"), "latency chart drawn")
        limit = b.js("""const e = document.querySelector('#queues-table tr[data-queue="emails"] [data-limit="concurrency"]');
            return e ? e.textContent : null;""")
        R.equal(limit, "concurrency 5", "emails concurrency limit shown")
        status, samples, _ = d.http("GET", "/ui/samples", cookie=b.d.get_cookie("ratchet_session")["value"])
        R.equal(status, 200, "GET /ui/samples")
        R.check(isinstance(samples, dict) and isinstance(samples.get("samples"), list), "samples JSON", repr(samples)[:200])

    @step("queue page matches GetQueue and ListJobs")
    def _():
        b.go("#/queues/emails?state=available")
        info = d.cli_json("queues", "get", "emails")
        R.equal(b.wait_css('#queue-settings [data-field="concurrencyLimit"]').text,
                str(info["settings"]["concurrency_limit"]), "queue concurrency limit")
        R.equal(b.css('#queue-settings [data-field="maxAttempts"]')[0].text,
                str(info["settings"]["max_attempts"]), "queue max attempts")
        tabs = b.js("""return Object.fromEntries(Array.from(document.querySelectorAll('#state-tabs [data-state]'))
            .map(a => [a.dataset.state, a.querySelector('.tab-count').innerText]))""")
        for st in ["scheduled", "available", "running", "completed", "cancelled", "dead"]:
            R.equal(tabs.get(st), str(info.get(st, "0")), f"queue tab count {st}")
        want = ids(d.cli_json("jobs", "list", "emails", "--state", "available"))
        R.equal(page_ids(b, "#jobs-table tr[data-job-id]"), want, "available job ids")
        R.equal(want, sorted(s.available), "available jobs are the seeded ones")
        b.screenshot("queue.png")
        b.wait_css('#state-tabs [data-state="dead"]').click()
        b.wait_ready("#/queues/emails?state=dead")
        R.equal(page_ids(b, "#jobs-table tr[data-job-id]"),
                ids(d.cli_json("jobs", "list", "emails", "--state", "dead")), "dead job ids on the queue page")
        b.go("#/queues/emails?state=scheduled&type=send_digest")
        R.equal(page_ids(b, "#jobs-table tr[data-job-id]"),
                ids(d.cli_json("jobs", "list", "emails", "--state", "scheduled", "--type", "send_digest")),
                "scheduled jobs filtered by type")

    @step("job page matches GetJob and ExplainJob")
    def _():
        jid = s.dead["d4"]
        b.go(f"#/jobs/{jid}")
        job = d.cli_json("jobs", "get", jid)
        explain = d.cli_json("jobs", "explain", jid)
        R.check("dead" in b.css('#job-facts [data-field="state"]')[0].text, "job state shown")
        R.equal(b.css('#job-facts [data-field="jobType"]')[0].text, job["job_type"], "job type shown")
        R.equal(b.css('#job-facts [data-field="attempts"]')[0].text,
                f"{job['attempts']} of {job['max_attempts']}", "attempts shown")
        errors = b.js("return Array.from(document.querySelectorAll('#job-errors tr[data-attempt] pre')).map(p => p.textContent)")
        R.equal(errors, [e["message"] for e in reversed(job.get("errors", []))], "error history shown as text")
        R.equal(len(b.css("#explain li.cause")), len(explain.get("causes", [])), "explain causes")
        R.equal(b.actions_shown(), ["redrive"], "dead job actions")
        b.screenshot("job.png")

        b.go(f"#/jobs/{s.running}")
        running = d.cli_json("jobs", "get", s.running)
        R.check(b.css("#job-progress progress"), "progress bar shown")
        R.equal(b.wait_css("#job-progress-message").text, HOSTILE_PROGRESS, "progress message as text")
        R.equal(b.css('#job-facts [data-field="workerId"]')[0].text, running["worker_id"], "worker id as text")
        R.equal(b.actions_shown(), ["cancel"], "running job actions")

        b.go(f"#/jobs/{s.binary}")
        R.equal(b.wait_css("#job-payload").get_attribute("data-kind"), "binary", "binary payload as hex dump")
        R.check(b.css("#job-payload pre")[0].text.startswith("00000000  00 05 0a 0f"), "hex dump bytes",
                b.css("#job-payload pre")[0].text[:60])
        b.go(f"#/jobs/{s.completed}")
        # JSON is shown as sent (re-printing would round big numbers).
        R.equal(b.wait_css("#job-result pre").text, '{"delivered":true}', "completed job result shown")

    @step("hostile payload shows as text")
    def _():
        b.go(f"#/jobs/{s.xss}")
        R.equal(b.wait_css("#job-payload").get_attribute("data-kind"), "text", "xss payload kind")
        R.equal(b.js("return document.querySelector('#job-payload pre').textContent"), XSS_PAYLOAD,
                "xss payload text")
        R.equal(b.js("return document.querySelectorAll('#main script, #main img').length"), 0,
                "no script/img elements in the page")
        R.equal(b.js("return typeof window.__pwned"), "undefined", "window.__pwned after the xss job page")
        b.screenshot("job-xss.png")

    @step("dead letters page matches ListDeadLetters")
    def _():
        nonlocal emails_dead_before
        b.go("#/dead-letters")
        R.check(b.css('#dlq-queues tr[data-queue="emails"]'), "dead-letter queue list")
        b.go("#/dead-letters/emails")
        emails_dead_before = ids(d.cli_json("dlq", "list", "emails"))
        R.equal(emails_dead_before, sorted(s.dead.values()), "dead letters are the seeded ones")
        R.equal(page_ids(b, "#dead-letters-table tr[data-job-id]"), emails_dead_before, "dead letter ids")
        texts = b.js("return Array.from(document.querySelectorAll('#dead-letters-table .error-text')).map(e => e.title)")
        R.check(texts and all(t == HOSTILE_ERROR for t in texts), "dead letter errors as text", repr(texts[:1]))
        b.screenshot("dead-letters.png")

    @step("workflows pages match ListWorkflows and GetWorkflow")
    def _():
        b.go("#/workflows")
        want = sorted(w["id"] for w in d.cli_json("workflows", "list").get("workflows", []))
        got = sorted(b.js("return Array.from(document.querySelectorAll('#workflows-table tr[data-workflow-id]')).map(e => e.dataset.workflowId)"))
        R.equal(got, want, "workflow ids")
        b.screenshot("workflows.png")
        b.go(f"#/workflows/{s.workflow}")
        wf = d.cli_json("workflows", "get", s.workflow)
        steps = b.js("""return Array.from(document.querySelectorAll('#workflow-dag g[data-step]')).map(g =>
            [g.dataset.step, g.getAttribute('class')])""")
        R.equal(sorted(x[0] for x in steps), sorted(st["name"] for st in wf.get("steps", [])), "DAG steps")
        states = {st["name"]: st["state"].replace("STEP_", "").lower() for st in wf.get("steps", [])}
        for name, cls in steps:
            R.check(f"step-{states.get(name)}" in cls, f"DAG step {name} colored by state", f"{cls} vs {states.get(name)}")
        edges = sorted(b.js("""return Array.from(document.querySelectorAll('#workflow-dag path.edge')).map(p =>
            p.dataset.from + '>' + p.dataset.to)"""))
        R.equal(edges, sorted(f"{dep}>{st['name']}" for st in wf.get("steps", []) for dep in st.get("depends_on", [])),
                "DAG edges")
        R.equal(sorted(f"{dep}>{n}" for n, deps in s.workflow_steps.items() for dep in deps), edges, "DAG edges seeded")
        b.screenshot("workflow.png")

    @step("schedules page matches ListSchedules")
    def _():
        b.go("#/schedules")
        want = {x["spec"]["id"]: x for x in d.cli_json("schedules", "list").get("schedules", [])}
        rows = b.js("""return Array.from(document.querySelectorAll('#schedules-table tr[data-schedule]')).map(tr =>
            [tr.dataset.schedule, tr.querySelector('[data-field="fired"]').innerText, !!tr.querySelector('.badge-paused')])""")
        R.equal(sorted(r[0] for r in rows), sorted(want), "schedule ids")
        for sid, fired, paused in rows:
            if sid in want:
                R.equal(fired, str(want[sid].get("fired", "0")), f"schedule {sid} fired")
                R.equal(paused, bool(want[sid]["spec"].get("paused")), f"schedule {sid} paused")
        R.check(b.css('tr[data-schedule="hourly-sync"] [data-action="resume"]'), "paused schedule offers Resume")
        b.screenshot("schedules.png")

    @step("workers page matches ListWorkers")
    def _():
        b.go("#/workers")
        want = sorted(w["worker_id"] for w in d.cli_json("workers").get("workers", []))
        got = sorted(b.js("return Array.from(document.querySelectorAll('#workers-table tr[data-worker]')).map(e => e.dataset.worker)"))
        R.equal(got, want, "worker ids")
        R.check(HOSTILE_WORKER in want, "hostile worker id listed by gRPC", repr(want))
        rows = b.js("return Array.from(document.querySelectorAll('#workers-table tr[data-worker]')).map(r => r.innerText)")
        R.check(any(HOSTILE_WORKER in r for r in rows), "hostile worker id shown as text", repr(rows))
        R.check(any(s.running in r for r in rows), "worker's running job shown", repr(rows))
        b.screenshot("workers.png")

    @step("redrive dead letters through the UI")
    def _():
        b.go("#/dead-letters/emails")
        d1 = s.dead["d1"]
        b.click_action(f'#dead-letters-table tr[data-job-id="{d1}"] [data-action="redrive"]', [d1, "emails"])
        b.wait_flash(rf"Redrove 1 job \(job {d1}\)")
        R.check(d.cli_json("jobs", "get", d1)["state"] != "JOB_STATE_DEAD", "d1 no longer dead (gRPC)")
        b.wait_ready("#/dead-letters/emails")
        b.wait(lambda: not b.css(f'#dead-letters-table tr[data-job-id="{d1}"]'), "d1 row to go")

        # By job type: the two send_receipt dead letters.
        field = b.wait_css("#dlq-job-type")
        field.clear()
        field.send_keys("send_receipt")
        b.click_action('[data-action="redrive-filter"]', ["send_receipt", "emails"])
        b.wait_flash(r"Redrove 2 jobs of type send_receipt from emails")
        for name in ["d2", "d3"]:
            R.check(d.cli_json("jobs", "get", s.dead[name])["state"] != "JOB_STATE_DEAD", f"{name} redriven (gRPC)")

        # Purge by job type.
        b.wait_ready("#/dead-letters/emails")
        field = b.wait_css("#dlq-job-type")
        field.clear()
        field.send_keys("send_push")
        b.click_action('[data-action="purge-filter"]', ["send_push", "emails"])
        b.wait_flash(r"Purged 1 job of type send_push from emails")
        R.equal(ids(d.cli_json("dlq", "list", "emails")), [s.dead["d4"]], "dead letters left (gRPC)")

    @step("dead letters: paging, and bulk redrive in slices (more)")
    def _():
        b.go("#/dead-letters/imports")
        first = d.cli_json("dlq", "list", "imports", "--limit", "50")
        second = d.cli_json("dlq", "list", "imports", "--limit", "50", "--cursor", first["next_cursor"])
        shown = page_ids(b, "#dead-letters-table tr[data-job-id]")
        R.equal(shown, ids(first), "dead letters page 1")
        b.wait_css('[data-page="next"]').click()
        b.wait(lambda: page_ids(b, "#dead-letters-table tr[data-job-id]") != shown, "page 2")
        R.equal(page_ids(b, "#dead-letters-table tr[data-job-id]"), ids(second), "dead letters page 2")
        b.wait_css('[data-page="first"]').click()
        b.wait(lambda: page_ids(b, "#dead-letters-table tr[data-job-id]") == shown, "back to page 1")

        batch = b.wait_css("#dlq-batch")
        batch.clear()
        batch.send_keys("50")
        b.click_action('[data-action="redrive-filter"]', ["all 101 dead letters of queue imports", "At most 50"])
        b.wait_flash(r"Redrove 50 jobs from imports\. More match")
        b.click_action('#flash [data-action="continue"]', ["imports"])
        b.wait_flash(r"Redrove 50 jobs from imports\. More match")
        b.click_action('#flash [data-action="continue"]', ["imports"])
        b.wait_flash(r"^Redrove 1 job from imports\.")
        R.check(not b.css('#flash [data-action="continue"]'), "no Continue once done")
        R.equal(ids(d.cli_json("dlq", "list", "imports")), [], "imports dead letters all redriven (gRPC)")
        R.equal(d.cli_json("queues", "get", "imports").get("available"), "101", "imports available again (gRPC)")

    @step("cancel a job through the UI")
    def _():
        jid = s.available[0]
        b.go(f"#/jobs/{jid}")
        b.click_action('[data-action="cancel"]', [jid])
        b.wait_flash(rf"Job {jid} is now cancelled")
        R.equal(d.cli_json("jobs", "get", jid)["state"], "JOB_STATE_CANCELLED", "job cancelled (gRPC)")
        b.wait(lambda: "cancelled" in (b.js("const e = document.querySelector('#job-facts [data-field=state]');"
                                            "return e ? e.textContent : ''") or ""), "job page to show cancelled")

    @step("retry a delayed job now through the UI")
    def _():
        jid = s.scheduled[0]
        b.go(f"#/jobs/{jid}")
        b.click_action('[data-action="retry"]', [jid])
        b.wait_flash(rf"Job {jid} is now available")
        R.equal(d.cli_json("jobs", "get", jid)["state"], "JOB_STATE_AVAILABLE", "job available now (gRPC)")

    @step("pause a queue through the UI")
    def _():
        b.go("#/queues/emails")
        b.click_action('[data-action="pause"]', ["emails"])
        b.wait_flash(r"Queue emails paused")
        R.equal(d.cli_json("queues", "get", "emails")["settings"].get("paused"), True, "emails paused (gRPC)")
        b.wait_css('[data-action="resume"]')

    @step("trigger a schedule through the UI")
    def _():
        b.go("#/schedules")
        b.click_action('tr[data-schedule="nightly-report"] [data-action="trigger"]', ["nightly-report", "reports"])
        text = b.wait_flash(r"Triggered schedule nightly-report: enqueued job \d+")
        jid = re.search(r"enqueued job (\d+)", text).group(1)
        job = d.cli_json("jobs", "get", jid)
        R.equal(job.get("schedule_id"), "nightly-report", "triggered job's schedule (gRPC)")
        R.equal(job.get("queue"), "reports", "triggered job's queue (gRPC)")

    @step("cancel the workflow through the UI")
    def _():
        b.go(f"#/workflows/{s.workflow}")
        b.click_action('[data-action="cancel-workflow"]', [str(s.workflow)])
        b.wait_flash(rf"Workflow {s.workflow} is now cancelled")
        R.equal(d.cli_json("workflows", "get", s.workflow)["state"], "WORKFLOW_CANCELLED", "workflow cancelled (gRPC)")

    @step("overview charts show the samples")
    def _():
        cookie = b.d.get_cookie("ratchet_session")["value"]

        def samples():
            status, body, _ = d.http("GET", "/ui/samples", cookie=cookie)
            if status != 200:
                raise AssertionError(f"GET /ui/samples: {status} {body}")
            return (body or {}).get("samples") or []

        def activity(n):
            d.rpc("JobService", "EnqueueBatch", {"jobs": [
                {"queue": "thumbnails", "jobType": "resize", "payload": b64("{}")} for _ in range(n)]})
            leased = d.rpc("WorkerService", "Lease", {"queue": "thumbnails", "maxJobs": n,
                                                      "workerId": "thumbnailer", "wait": "1s"}).get("jobs", [])
            d.rpc("WorkerService", "CompleteBatch", {"items": [
                {"jobId": j["jobId"], "fencingToken": j["fencingToken"]} for j in leased]})

        def next_sample(count):
            return b.wait(lambda: (lambda s: s if len(s) > count else None)(samples()), "a new sample", timeout=12)

        # Throughput and starts in two sampling intervals in a row, so that
        # the charts draw lines.
        activity(12)
        got = next_sample(len(samples()))
        activity(20)
        got = next_sample(len(got))
        last = got[-1]
        for key in ["time", "startLatencyP50Seconds", "startLatencyP99Seconds", "queues"]:
            R.check(key in last, f"sample field {key}", repr(last)[:300])
        thumbs = (last.get("queues") or {}).get("thumbnails") or {}
        for key in ["completedPerSecond", "failedPerSecond", "enqueuedPerSecond", "oldestAvailableAgeSeconds"]:
            R.check(key in thumbs, f"sample queue field {key}", repr(thumbs))
        R.check(thumbs.get("completedPerSecond", 0) > 0, "thumbnails throughput sampled", repr(thumbs))
        R.check(last.get("startLatencyP99Seconds", 0) > 0, "start latency sampled", repr(last)[:200])
        b.go("#/")
        R.check(b.css('#queues-table tr[data-queue="thumbnails"] svg.sparkline path.spark-line'),
                "thumbnails throughput sparkline drawn")
        R.equal(len(b.css("#latency-chart path.series")), 2, "latency chart series")
        R.check(b.js("return document.querySelector('#latency-chart path.series-p99').getAttribute('d')"),
                "latency p99 line drawn")
        R.check(b.css('#queues-table tr[data-queue="emails"] .badge-paused'), "emails shown paused")
        b.screenshot("overview.png")

    @step("nothing ran any hostile markup")
    def _():
        R.equal(b.js("return typeof window.__pwned"), "undefined", "window.__pwned after every page")

    @step("CSRF: a cookie-only POST is refused and changes nothing")
    def _():
        cookie = b.d.get_cookie("ratchet_session")["value"]
        status, body, _ = d.http("POST", "/v1/QueueService/PauseQueue", {"queue": "billing"}, cookie=cookie)
        R.equal(status, 403, "POST without X-CSRF-Token")
        R.equal((body or {}).get("code"), 7, "CSRF refusal code")
        reasons = [x.get("reason") for x in (body or {}).get("details", [])]
        R.check("CSRF_TOKEN_MISMATCH" in reasons, "CSRF refusal reason", repr(body))
        status, _, _ = d.http("POST", "/v1/QueueService/PauseQueue", {"queue": "billing"}, cookie=cookie,
                              csrf="0" * 64)
        R.equal(status, 403, "POST with a wrong X-CSRF-Token")
        R.equal(d.cli_json("queues", "get", "billing")["settings"].get("paused", False), False,
                "billing still not paused (gRPC)")
        # The same from the page itself, with fetch() and no header.
        status = b.d.execute_async_script("""const done = arguments[arguments.length - 1];
            fetch('/v1/QueueService/PauseQueue', {method: 'POST', credentials: 'same-origin',
              headers: {'Content-Type': 'application/json'}, body: JSON.stringify({queue: 'billing'})})
              .then(r => done(r.status), e => done(String(e)));""")
        R.equal(status, 403, "fetch() without X-CSRF-Token from the page")
        R.equal(d.cli_json("queues", "get", "billing")["settings"].get("paused", False), False,
                "billing still not paused after fetch (gRPC)")
        # A session made here: GET /ui/session answers the same JSON as the sign-in.
        status, made, hdrs = d.http("POST", "/ui/session", {"token": d.admin_token})
        R.equal(status, 200, "POST /ui/session")
        set_cookie = hdrs.get("Set-Cookie") or ""
        R.check(all(a in set_cookie for a in ["ratchet_session=", "HttpOnly", "SameSite=Strict", "Path=/"]),
                "Set-Cookie attributes", set_cookie)
        m = re.search(r"ratchet_session=([^;]+)", set_cookie)
        if m:
            status, again, _ = d.http("GET", "/ui/session", cookie=m.group(1))
            R.equal(again, made, "GET /ui/session equals the sign-in answer")
            R.equal(sorted((made or {}).get("permissions", [])), ["admin", "enqueue", "manage", "read", "work"],
                    "admin permissions")
        status, _, _ = d.http("POST", "/ui/session", {"token": "wrong"})
        R.equal(status, 401, "POST /ui/session with a bad token")
        # With the right token a read works (the cookie session is fine).
        status, sess, _ = d.http("GET", "/ui/session", cookie=cookie)
        R.equal(status, 200, "GET /ui/session with the cookie")
        status, _, _ = d.http("POST", "/v1/QueueService/ListQueues", {}, cookie=cookie,
                              csrf=(sess or {}).get("csrfToken"))
        R.equal(status, 200, "POST with cookie and X-CSRF-Token")

    @step("sign out")
    def _():
        cookie = b.d.get_cookie("ratchet_session")["value"]
        b.wait_css("#sign-out").click()
        b.wait_css("#login-token")
        status, _, _ = d.http("GET", "/ui/session", cookie=cookie)
        R.equal(status, 401, "old session after sign-out")

    @step("operator of one queue: actions only on that queue")
    def _():
        b.d.delete_all_cookies()
        b.sign_in(d.emailop_token, "#/queues/emails")
        R.equal(b.wait_css("#principal").text, "emailop", "emailop principal")
        R.check(len(b.actions_shown()) > 0, "actions on its own queue", repr(b.actions_shown()))
        b.go("#/queues/billing")
        R.equal(b.actions_shown(), [], "no actions on a queue it cannot manage")
        b.go("#/dead-letters/billing")
        R.equal(b.actions_shown(), [], "no dead-letter actions on a queue it cannot manage")

    @step("viewer: read-only pages, refused mutations")
    def _():
        b.d.delete_all_cookies()
        b.sign_in(d.viewer_token, "#/queues/emails")  # back to where it started
        R.equal(b.wait_css("#principal").text, "viewer", "viewer principal")
        R.check(b.css("#read-only")[0].is_displayed(), "read-only badge shown")
        R.equal(b.actions_shown(), [], "no actions on the queue page")
        for route in [f"#/jobs/{s.dead['d4']}", f"#/jobs/{s.available[1]}", "#/dead-letters/emails",
                      "#/schedules", f"#/workflows/{s.workflow}", "#/", "#/workers"]:
            b.go(route)
            R.equal(b.actions_shown(), [], f"no actions on {route}")
        cookie = b.d.get_cookie("ratchet_session")["value"]
        status, sess, _ = d.http("GET", "/ui/session", cookie=cookie)
        R.equal(status, 200, "viewer session")
        R.check("manage" not in (sess or {}).get("permissions", []), "viewer lacks manage", repr(sess))
        csrf = (sess or {}).get("csrfToken")
        for method, body in [("QueueService/PauseQueue", {"queue": "billing"}),
                             ("QueueService/RedriveDeadLetters", {"filter": {"queue": "emails", "jobId": s.dead["d4"]}}),
                             ("JobService/CancelJob", {"jobId": s.available[1]})]:
            status, out, _ = d.http("POST", f"/v1/{method}", body, cookie=cookie, csrf=csrf)
            R.equal(status, 403, f"viewer {method}")
            R.equal((out or {}).get("code"), 7, f"viewer {method} code")
        R.equal(d.cli_json("queues", "get", "billing")["settings"].get("paused", False), False, "billing not paused")
        R.equal(d.cli_json("jobs", "get", s.dead["d4"])["state"], "JOB_STATE_DEAD", "d4 still dead")
        R.equal(d.cli_json("jobs", "get", s.available[1])["state"], "JOB_STATE_AVAILABLE", "job still available")

    @step("JSON API error mapping")
    def _():
        cases = [
            ("invalid argument", "/v1/JobService/Enqueue",
             {"job": {"queue": "bad queue!", "jobType": "x"}}, d.admin_token, None, 400, 3),
            ("unknown job", "/v1/JobService/GetJob", {"jobId": "987654321"}, d.admin_token, None, 404, 5),
            ("no credentials", "/v1/QueueService/ListQueues", {}, None, None, 401, 16),
            ("bad token", "/v1/QueueService/ListQueues", {}, "not-a-token", None, 401, 16),
            ("permission", "/v1/QueueService/PauseQueue", {"queue": "billing"}, d.viewer_token, None, 403, 7),
            ("malformed JSON", "/v1/QueueService/GetQueue", None, d.admin_token, b'{"queue": ', 400, 3),
            ("unknown field", "/v1/QueueService/GetQueue", {"queue": "emails", "nope": 1}, d.admin_token, None, 400, 3),
            ("full service name", "/v1/ratchet.v1.QueueService/GetQueue", {"queue": "emails"}, d.admin_token, None, 200, None),
            ("snake_case names", "/v1/JobService/GetJob", {"job_id": s.completed}, d.admin_token, None, 200, None),
            ("empty body", "/v1/QueueService/ListQueues", None, d.admin_token, b"", 200, None),
        ]
        for name, path, body, token, raw, want_status, want_code in cases:
            status, out, hdrs = d.http("POST", path, body, token=token, raw=raw)
            R.equal(status, want_status, f"{name}: HTTP status")
            if want_code is not None:
                R.equal((out or {}).get("code"), want_code, f"{name}: google.rpc.Status code")
                R.check(isinstance((out or {}).get("message"), str), f"{name}: message", repr(out))
                R.check("application/json" in (hdrs.get("Content-Type") or ""), f"{name}: JSON body",
                        hdrs.get("Content-Type"))
        status, out, _ = d.http("POST", "/v1/JobService/GetJob", {"jobId": s.completed}, token=d.admin_token)
        R.check(status == 200 and out.get("id") == str(s.completed) and out.get("state") == "JOB_STATE_COMPLETED"
                and "createdAt" in out and out.get("result") == b64('{"delivered":true}'),
                "GetJob JSON shape (string ids, enum names, camelCase, base64)", repr(out)[:300])


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def main():
    # ctest's timeout sends SIGTERM: unwind so that ratchetd and the browser are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--ratchetd", required=True)
    p.add_argument("--cli", required=True)
    p.add_argument("--out", required=True, help="directory for the screenshots")
    p.add_argument("--assets", help="serve the dashboard from this directory (RATCHET_DASHBOARD_DIR)")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory")
    return run(p.parse_args())


if __name__ == "__main__":
    sys.exit(main())
