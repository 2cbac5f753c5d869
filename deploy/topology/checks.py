"""Drives the console and SCIM through nginx and the replicas: `checks.py STEP` (run by deploy/topology-test.sh)."""
import http.client
import http.cookiejar
import json
import os
import re
import signal
import socket
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

PUBLIC = os.environ["TOPO_PUBLIC"]
REPLICAS = {"A": os.environ["TOPO_A"], "B": os.environ["TOPO_B"]}
STATE = os.environ["TOPO_STATE"]
JAR = os.environ["TOPO_JAR"]
SYNC = "/console/secure/advanced/user-group-sync"
NETWORK_ERRORS = (urllib.error.URLError, http.client.HTTPException, ConnectionError,
                  socket.timeout, TimeoutError, OSError)


def say(line):
    print(f"topology: {line}", flush=True)


def fail(line):
    say(f"FAILED {line}")
    sys.exit(1)


def state():
    with open(STATE, encoding="utf-8") as f:
        return json.load(f)


def save_state(**values):
    current = state() if os.path.exists(STATE) else {}
    current.update(values)
    with open(STATE, "w", encoding="utf-8") as f:
        json.dump(current, f)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


# No proxy from the environment: everything here is on 127.0.0.1.
PLAIN = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Browser:
    """The console in a browser: a cookie jar kept on disk between steps, Origin on posts."""

    def __init__(self):
        self.jar = http.cookiejar.LWPCookieJar(JAR)
        if os.path.exists(JAR):
            self.jar.load(ignore_discard=True, ignore_expires=True)
        cookies = urllib.request.HTTPCookieProcessor(self.jar)
        none = urllib.request.ProxyHandler({})
        self.follow = urllib.request.build_opener(none, cookies)
        self.stay = urllib.request.build_opener(none, cookies, NoRedirect)

    def go(self, method, url, form=None, follow=True, timeout=30):
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        req = urllib.request.Request(url, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/x-www-form-urlencoded")
            req.add_header("Origin", PUBLIC)
        opener = self.follow if follow else self.stay
        try:
            with opener.open(req, timeout=timeout) as r:
                status, where, body, headers = r.status, r.geturl(), r.read(), r.headers
        except urllib.error.HTTPError as e:
            status, where, body, headers = e.code, e.geturl(), e.read(), e.headers
        except NETWORK_ERRORS as e:
            fail(f"{method} {url}: {type(e).__name__}: {e}")
        self.jar.save(ignore_discard=True, ignore_expires=True)
        return status, where, body.decode("utf-8", "replace"), headers


def field(html, name):
    match = re.search(r'name="%s" value="([^"]*)"' % re.escape(name), html)
    return match.group(1) if match else None


def scim(method, url, token, body=None, timeout=15):
    """(status or None, parsed JSON or text) of one SCIM request."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Authorization", f"Bearer {token}")
    req.add_header("Accept", "application/scim+json")
    if data is not None:
        req.add_header("Content-Type", "application/scim+json")
    try:
        with PLAIN.open(req, timeout=timeout) as r:
            status, raw = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    except NETWORK_ERRORS as e:
        return None, f"{type(e).__name__}: {e}"
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode("utf-8", "replace")[:300]


def users_url(base, tenant):
    return f"{base}/scim/v2/{tenant}/Users"


def issued_token(html):
    match = re.search(r'id="issued-token"[^>]*value="(scim_[A-Za-z0-9]+)"', html)
    return match.group(1) if match else None


def console_page(browser, path):
    status, where, html, _ = browser.go("GET", PUBLIC + path)
    if status != 200 or urllib.parse.urlparse(where).path != path:
        fail(f"console GET {path} answered {status} at {where}")
    return html


def step_console():
    """b: sign in, change the one-time password, Generate Token, use it."""
    s = state()
    browser = Browser()
    status, where, html, _ = browser.go("GET", PUBLIC + "/console/users")
    if status != 200 or "/console/login" not in where:
        fail(f"b: a visitor to /console/users was not sent to sign-in ({status} {where})")
    csrf, nxt = field(html, "csrf"), field(html, "next")
    if not csrf:
        fail("b: no csrf field on the sign-in page")
    status, where, html, _ = browser.go("POST", PUBLIC + "/console/login", {
        "csrf": csrf, "next": nxt or "", "email": s["admin_email"], "password": s["admin_password"],
    })
    if status != 200 or not where.endswith("/console/password"):
        fail(f"b: sign-in with the one-time password answered {status} at {where}")
    new_password = "topology correct horse battery"
    status, where, html, _ = browser.go("POST", PUBLIC + "/console/password", {
        "csrf": field(html, "csrf"), "current": s["admin_password"],
        "new_password": new_password, "confirm": new_password,
    })
    if status != 200 or urllib.parse.urlparse(where).path != "/console/secure/advanced/user-group-sync":
        fail(f"b: changing the one-time password answered {status} at {where}")
    # The same session on each replica's own port (nginx round-robins; this makes sure).
    for name, base in REPLICAS.items():
        status, where, _, _ = browser.go("GET", base + "/console/users")
        if status != 200 or urllib.parse.urlparse(where).path != "/console/users":
            fail(f"b: the console session is not accepted by replica {name} ({status} at {where})")
    html = console_page(browser, SYNC)
    if "Generate Token" not in html:
        fail("b: no Generate Token button on User and Group Sync")
    status, where, html, _ = browser.go("POST", PUBLIC + SYNC + "/token", {
        "csrf": field(html, "csrf"), "request_id": field(html, "request_id"),
    })
    token = issued_token(html)
    if status != 200 or not token:
        fail(f"b: Generate Token answered {status} at {where} without a token")
    code, body = scim("GET", users_url(PUBLIC, s["tenant_id"]), token)
    if code != 200:
        fail(f"b: GET /Users with the console's token through nginx answered {code}: {body}")
    save_state(t1=token)
    say(f"console: signed in, password changed, session accepted by replicas A and B, token "
        f"generated (…{token[-4:]}), GET /Users through nginx 200 ({body.get('totalResults')} users)")


def step_revoke():
    """c: both replicas remember T1; Regenerate (T2); Revoke now T1; time until each refuses."""
    s = state()
    bound_ms = int(float(os.environ["TOPO_BOUND_SECS"]) * 1000)
    t1, tenant = s["t1"], s["tenant_id"]
    problems = []
    for name, base in REPLICAS.items():
        for _ in range(5):
            code, body = scim("GET", users_url(base, tenant) + "?count=1", t1)
            if code != 200:
                fail(f"c: T1 on replica {name} answered {code} before any revocation: {body}")
    browser = Browser()
    html = console_page(browser, SYNC)
    if "Regenerate Token" not in html:
        fail("c: no Regenerate Token on User and Group Sync")
    status, where, html, _ = browser.go("POST", PUBLIC + SYNC + "/token", {
        "csrf": field(html, "csrf"), "request_id": field(html, "request_id"),
    })
    t2 = issued_token(html)
    if status != 200 or not t2 or t2 == t1:
        fail(f"c: Regenerate Token answered {status} at {where} without a new token")
    # T2 is not used before the revocation: its first use would retire T1 by itself.
    for name, base in REPLICAS.items():
        code, _ = scim("GET", users_url(base, tenant) + "?count=1", t1)
        if code != 200:
            fail(f"c: T1 on replica {name} answered {code} during the overlap, before Revoke now")
    html = console_page(browser, SYNC)
    # The Previous tokens table: a row per token, its last four characters and its form.
    forms = []
    for row in re.findall(r"<tr>(.*?)</tr>", html, re.S):
        last4 = re.search(r"<code>••••([A-Za-z0-9]{4})</code>", row)
        revoke = re.search(r'action="(%s/tokens/[^"/]+/revoke)"' % re.escape(SYNC), row)
        if last4 and revoke and "Revoke now" in row:
            forms.append((last4.group(1), revoke.group(1)))
    action = next((a for last4, a in forms if last4 == t1[-4:]), None)
    if not action:
        fail(f"c: no Revoke now form for the previous token …{t1[-4:]} (found {forms})")
    results = {}
    # Revoke now, then each replica polled with T1 every 20 ms until it answers 401.
    status, where, _, headers = browser.go("POST", PUBLIC + action, {"csrf": field(html, "csrf")},
                                           follow=False)
    revoked_at = time.monotonic()
    if status != 303:
        fail(f"c: Revoke now answered {status} (expected 303)")
    deadline = revoked_at + bound_ms / 1000 + 5

    def poll(name, base):
        last = None
        while time.monotonic() < deadline:
            code, _ = scim("GET", users_url(base, tenant) + "?count=1", t1, timeout=5)
            if code == 401:
                results[name] = int((time.monotonic() - revoked_at) * 1000)
                return
            last = code
            time.sleep(0.02)
        results[name] = None
        results[name + "_last"] = last

    threads = [threading.Thread(target=poll, args=item) for item in REPLICAS.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    shown = {n: (f"{results[n]} ms" if results[n] is not None else
                 f"never within {bound_ms + 5000} ms (last answer {results.get(n + '_last')})")
             for n in REPLICAS}
    say(f"revocation refused by replica A after {shown['A']}, replica B after {shown['B']} "
        f"(bound {bound_ms} ms)")
    for name in REPLICAS:
        if results[name] is None or results[name] > bound_ms:
            problems.append(f"c-{name}")
            say(f"FAILED c: replica {name} still accepted the revoked token "
                f"{bound_ms} ms after Revoke now ({shown[name]})")
    location = headers.get("Location", "")
    final = console_page(browser, SYNC)
    if f"The token ending in {t1[-4:]} was revoked" not in final:
        say(f"note: the revocation flash message was not shown (Location {location})")
    for name, base in REPLICAS.items():
        code, body = scim("GET", users_url(base, tenant) + "?count=1", t2)
        if code != 200:
            problems.append(f"c-T2-{name}")
            say(f"FAILED c: the new token on replica {name} answered {code}: {body}")
    save_state(t2=t2)
    if not any(p.startswith("c-T2") for p in problems):
        say("the new token works on replicas A and B")
    # The outcome for each replica, for the shell: a line per failure.
    with open(os.environ["TOPO_RESULT"], "w", encoding="utf-8") as f:
        f.write("\n".join(problems))


def step_load():
    """d: creates through nginx from many threads; replica A killed -9 during them."""
    s = state()
    tenant, token = s["tenant_id"], s["t2"]
    threads_n, secs = int(os.environ["TOPO_LOAD_THREADS"]), float(os.environ["TOPO_LOAD_SECS"])
    kill_after, pid = float(os.environ["TOPO_KILL_AFTER"]), int(os.environ["TOPO_KILL_PID"])
    run = os.urandom(3).hex()
    acked, failures, lock = [], {}, threading.Lock()
    start = time.monotonic()
    stop_at = start + secs
    killed_at = []

    def worker(n):
        i = 0
        while time.monotonic() < stop_at:
            i += 1
            user_name = f"load-{run}-{n}-{i}@load.example"
            body = {
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": user_name,
                "name": {"givenName": f"Load{n}", "familyName": f"User{i}"},
                "emails": [{"value": user_name, "type": "work", "primary": True}],
                "active": True,
            }
            code, answer = scim("POST", users_url(PUBLIC, tenant), token, body, timeout=30)
            with lock:
                if code == 201 and isinstance(answer, dict) and answer.get("id"):
                    acked.append((answer["id"], user_name))
                else:
                    key = str(code) if code is not None else answer.split(":")[0]
                    failures[key] = failures.get(key, 0) + 1

    workers = [threading.Thread(target=worker, args=(n,)) for n in range(threads_n)]
    for w in workers:
        w.start()
    time.sleep(kill_after)
    os.kill(pid, signal.SIGKILL)
    killed_at.append(time.monotonic() - start)
    for w in workers:
        w.join()
    elapsed = time.monotonic() - start
    failed_n = sum(failures.values())

    # Every acknowledged create is there (read through nginx: replica B, A being dead).
    missing, unsure, lock2 = [], [], threading.Lock()
    queue = list(acked)

    def check():
        while True:
            with lock2:
                if not queue:
                    return
                uid, user_name = queue.pop()
            for attempt in range(5):
                code, answer = scim("GET", f"{users_url(PUBLIC, tenant)}/{uid}", token)
                if code == 200 and isinstance(answer, dict) and answer.get("userName") == user_name:
                    break
                if code == 404:
                    with lock2:
                        missing.append((uid, user_name))
                    break
                time.sleep(0.2 * (attempt + 1))
            else:
                with lock2:
                    unsure.append((uid, user_name, code))

    checkers = [threading.Thread(target=check) for _ in range(8)]
    for c in checkers:
        c.start()
    for c in checkers:
        c.join()
    detail = ", ".join(f"{k}: {v}" for k, v in sorted(failures.items())) or "none"
    say(f"{len(acked)} creates acknowledged, {len(missing)} lost ({failed_n} failed during the "
        f"kill) in {elapsed:.1f} s from {threads_n} threads, replica A killed -9 at "
        f"{killed_at[0]:.1f} s; failures by answer: {detail}")
    if not acked:
        fail("d: no create was acknowledged")
    if missing:
        fail(f"d: {len(missing)} acknowledged creates are missing, e.g. {missing[:3]}")
    if unsure:
        fail(f"d: {len(unsure)} acknowledged creates could not be read back, e.g. {unsure[:3]}")
    save_state(load_run=run, load_acked=len(acked))


def step_pages():
    """e: the console's read pages, several times; each must answer 200."""
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    browser = Browser()
    s = state()
    pages = ["/console/users", "/console/groups", "/console/activity", SYNC, "/console/direct/settings"]
    slow = []
    for _ in range(count):
        for path in pages:
            begun = time.monotonic()
            status, where, _, _ = browser.go("GET", PUBLIC + path, timeout=30)
            took = time.monotonic() - begun
            if status != 200 or urllib.parse.urlparse(where).path != path:
                fail(f"e: GET {path} answered {status} at {where} after {took:.1f} s")
            slow.append(took)
    code, body = scim("GET", users_url(PUBLIC, s["tenant_id"]) + "?count=1", s["t2"])
    if code != 200:
        fail(f"e: SCIM GET /Users through nginx answered {code}: {body}")
    say(f"console pages: {len(slow)} loads of {len(pages)} pages answered 200 "
        f"(slowest {max(slow) * 1000:.0f} ms); SCIM GET /Users 200")


def step_write():
    """e: a console write (the event retention), which must reach the primary."""
    browser = Browser()
    html = console_page(browser, "/console/direct/settings")
    form = re.search(r'<form[^>]*action="/console/direct/settings/retention".*?</form>', html, re.S)
    if not form:
        fail("e: no retention form on Direct > Settings")
    fields = dict(re.findall(r'name="([a-z_]+)"[^>]*value="([^"]*)"', form.group(0)))
    select = re.search(r'<select[^>]*name="([a-z_]+)"', form.group(0))
    days_name = select.group(1) if select else "days"
    fields[days_name] = "45"
    status, where, html, _ = browser.go("POST", PUBLIC + "/console/direct/settings/retention",
                                        fields, follow=False)
    if status not in (200, 303):
        fail(f"e: saving the retention answered {status}: {html[:200]}")
    say(f"console write (retention 45 days) answered {status}")


STEPS = {"console": step_console, "revoke": step_revoke, "load": step_load,
         "pages": step_pages, "write": step_write}
STEPS[sys.argv[1]]()
