"""make load: anonymous readers and signed-in branch secretaries at once.

The clients talk to nginx with the shipped configuration, in front of
gunicorn. Each reader thread is one visitor (its own User-Agent, and its own
address in X-Forwarded-For, which nginx trusts from this machine and passes on)
reading published case pages, with some home, series and issue pages between
them. A case page nginx answers from the published copy holds no count but a
beacon; the reader then posts it as the page's script does in a browser, and
that post is what counts the read. Each writer thread
signs in as one branch secretary through the login form, then, again and
again, writes a case through the create form and submits it from the case
page, following every redirect as a browser does.

Prints name=value lines and writes a JSON report for bench/load_check.py: every
title sent and what the client saw of it, and how many distinct visitors got
each case page (through the page itself, or its beacon).

Standard library only: one keep-alive connection per thread (http.client) is
all a browser-like client needs here, and threads keep the flow of each
visitor plain to read.
"""

import argparse
import http.client
import json
import random
import re
import sys
import threading
import time
import uuid
from collections import Counter
from http.cookies import SimpleCookie
from urllib.parse import urlencode

TIMEOUT = 30
# Reopen a connection idle this long: a server closes kept-alive connections
# after a while (nginx's keepalive_timeout, gunicorn's --keep-alive), and a POST
# must not go out on one it is closing.
IDLE_REOPEN = 2.0

CSRF_RE = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')
BRANCH_RE = re.compile(rb'<input[^>]*name="branch"[^>]*value="(\d+)"')
EDIT_RE = re.compile(r"/submissions/(\d+)/edit/")
# The count on a case page Django built (the readers ask for Chinese pages).
PAGE_COUNT_RE = re.compile("浏览量：[0-9]+".encode())
BEACON_RE = re.compile(rb'data-views-beacon="([^"]+)"')
COUNT_RE = re.compile(rb'\{"views": ?(\d+)\}')


class Failure(Exception):
    """No response, or not the response this step of the flow expects."""


class Browser:
    """One keep-alive connection and its cookies, as one browser tab has."""

    def __init__(self, host: str, port: int, user_agent: str, address: str = ""):
        self.host = host
        self.port = port
        self.origin = f"http://{host}:{port}"
        self.user_agent = user_agent
        self.address = address
        self.cookies: dict[str, str] = {}
        self.conn: http.client.HTTPConnection | None = None
        self.last_used = 0.0
        self.statuses: Counter = Counter()

    def request(
        self, method: str, path: str, *, body=None, content_type=None, extra=None
    ):
        """Send one request; returns (status, headers, body, milliseconds)."""
        if self.conn is not None and time.monotonic() - self.last_used > IDLE_REOPEN:
            self.conn.close()
        headers = {
            "User-Agent": self.user_agent,
            "Accept": "text/html,application/xhtml+xml",
            "Accept-Language": "zh-CN,zh;q=0.9",
        }
        if self.address:
            headers["X-Forwarded-For"] = self.address
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            if content_type is not None:
                headers["Content-Type"] = content_type
            headers["Origin"] = self.origin
        headers.update(extra or {})
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(
                    self.host, self.port, timeout=TIMEOUT
                )
            reused = self.conn.sock is not None
            started = time.perf_counter()
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                content = response.read()
            except (
                http.client.RemoteDisconnected,
                ConnectionResetError,
                BrokenPipeError,
            ) as error:
                self.conn.close()
                # A kept-alive connection the server closed just as the request
                # went out: browsers send a GET again on a new connection.
                if attempt == 1 and reused and method == "GET":
                    continue
                raise Failure(f"{method} {path}: {type(error).__name__}") from error
            except (OSError, http.client.HTTPException) as error:
                self.conn.close()
                raise Failure(f"{method} {path}: {type(error).__name__}") from error
            elapsed_ms = (time.perf_counter() - started) * 1000
            self.last_used = time.monotonic()
            self.statuses[response.status] += 1
            self._keep_cookies(response.headers.get_all("Set-Cookie") or [])
            return response.status, response.headers, content, elapsed_ms
        raise AssertionError("unreachable")

    def _keep_cookies(self, set_cookies: list[str]) -> None:
        for header in set_cookies:
            jar = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    # Sent back as it came, quotes and all, as browsers do.
                    self.cookies[name] = morsel.coded_value

    def get(self, path: str, *, expect: int = 200):
        status, headers, content, elapsed_ms = self.request("GET", path)
        if status != expect:
            raise Failure(f"GET {path}: {status}, expected {expect}")
        return headers, content, elapsed_ms

    def post(self, path: str, body: bytes, content_type: str, *, expect: int = 302):
        status, headers, content, elapsed_ms = self.request(
            "POST", path, body=body, content_type=content_type
        )
        if status != expect:
            raise Failure(f"POST {path}: {status}, expected {expect}")
        return headers, content, elapsed_ms

    def follow(self, headers, *, expected_path: str | None = None):
        """GET where a redirect points, as a browser would."""
        location = headers.get("Location", "")
        if location.startswith(self.origin):
            location = location[len(self.origin) :]
        if expected_path is not None and location != expected_path:
            raise Failure(f"redirected to {location!r}, expected {expected_path!r}")
        return self.get(location)


def csrf_token(page: bytes, where: str) -> str:
    found = CSRF_RE.search(page)
    if found is None:
        raise Failure(f"{where}: no CSRF token in the page")
    return found[1].decode()


def form_urlencoded(fields: dict) -> tuple[bytes, str]:
    return urlencode(fields).encode(), "application/x-www-form-urlencoded"


def form_multipart(fields: dict, empty_files: list[str]) -> tuple[bytes, str]:
    """The case form is multipart (it has a file field), as a browser sends it."""
    boundary = f"----CaseHubLoad{uuid.uuid4().hex}"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
        f"{value}\r\n"
        for name, value in fields.items()
    ]
    parts += [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
        'filename=""\r\nContent-Type: application/octet-stream\r\n\r\n\r\n'
        for name in empty_files
    ]
    parts.append(f"--{boundary}--\r\n")
    return "".join(parts).encode(), f"multipart/form-data; boundary={boundary}"


class Run:
    """The shared clock and what the workers report when they finish."""

    def __init__(self, args, plan):
        self.args = args
        self.plan = plan
        self.deadline = 0.0
        self.started = 0.0
        self.lock = threading.Lock()
        self.statuses: Counter = Counter()
        self.errors: list[str] = []
        self.read_ms: list[float] = []
        self.case_reads = 0
        self.case_reads_from_copy = 0
        self.write_ms: list[float] = []
        self.views: Counter = Counter()
        self.writes: list[dict] = []
        self.logins = 0
        self.gate = threading.Barrier(
            args.readers + args.writers + 1, action=self._start_clock
        )

    def _start_clock(self) -> None:
        self.started = time.monotonic()
        self.deadline = self.started + self.args.seconds

    def running(self) -> bool:
        return time.monotonic() < self.deadline

    def report(self, browser: Browser, **parts) -> None:
        with self.lock:
            self.statuses.update(browser.statuses)
            self.errors.extend(parts.get("errors", []))
            self.read_ms.extend(parts.get("read_ms", []))
            seen = parts.get("seen", Counter())
            self.case_reads += sum(seen.values())
            self.case_reads_from_copy += parts.get("from_copy", 0)
            # A visitor counts once per case, however often it read the page,
            # and its address adds no more than the site's hourly bound: the
            # first cases it read, in the order it read them.
            self.views.update(list(seen)[: self.args.address_reads])
            self.write_ms.extend(parts.get("write_ms", []))
            self.writes.extend(parts.get("writes", []))
            self.logins += parts.get("logins", 0)


def reader(run: Run, index: int) -> None:
    args = run.args
    # Seeded per reader: which pages a reader picks, not a secret.
    rng = random.Random(f"{args.run}:reader:{index}")  # noqa: S311
    browser = Browser(
        args.host,
        args.port,
        f"Mozilla/5.0 (X11; Linux x86_64) CaseHubLoad/{args.run} reader/{index}",
        # TEST-NET-2 (RFC 5737): only ever a header value, never a destination.
        address=f"198.51.{100 + index // 250}.{index % 250 + 1}",
    )
    seen: Counter = Counter()  # case id -> pages got
    read_ms, errors = [], []
    # Case pages nginx answered from the published copy (each one's beacon
    # posted).
    sources = Counter()
    run.gate.wait()
    try:
        _read_until_done(run, rng, browser, seen, read_ms, errors, sources)
    finally:
        run.report(
            browser,
            seen=seen,
            read_ms=read_ms,
            errors=errors,
            from_copy=sources["copy"],
        )


def case_page_check(browser: Browser, path: str, content: bytes) -> bool:
    """A case page as a browser takes it: True if it came from the copy.

    A file of the copy holds a beacon where the count goes; the reader posts
    it as static/js/views.js does, and the site counts the read then. A page
    from Django holds the count, and was counted as it was built.
    """
    beacon = BEACON_RE.search(content)
    counted = PAGE_COUNT_RE.search(content)
    if (beacon is None) == (counted is None):
        raise Failure(
            f"GET {path}: {'both' if beacon else 'neither'} a beacon and a count "
            "in the page"
        )
    if beacon is None:
        return False
    target = beacon[1].decode()
    status, _headers, answer, _ms = browser.request(
        "POST",
        target,
        body=b"",
        extra={
            "Accept": "application/json",
            "Referer": browser.origin + path,
            "Sec-Fetch-Site": "same-origin",
            "Sec-Fetch-Mode": "cors",
            "Sec-Fetch-Dest": "empty",
        },
    )
    if status != 200:
        raise Failure(f"POST {target}: {status}, expected 200")
    if COUNT_RE.fullmatch(answer.strip()) is None:
        raise Failure(f"POST {target}: answered {answer[:80]!r}, not a count")
    return True


def _read_until_done(run, rng, browser, seen, read_ms, errors, sources) -> None:
    plan = run.plan
    while run.running():
        roll = rng.random()
        case_id = None
        if roll < 0.85:
            case_id = rng.choice(plan["cases"])
            path = f"/cases/{case_id}/"
        elif roll < 0.92:
            path = f"/series/{plan['series']}/{rng.choice(plan['issues'])}/"
        elif roll < 0.96:
            page = rng.randint(1, max(1, min(5, len(plan["issues"]) // 20)))
            path = f"/series/{plan['series']}/" + (f"?page={page}" if page > 1 else "")
        else:
            path = "/"
        try:
            _headers, content, elapsed_ms = browser.get(path)
            read_ms.append(elapsed_ms)
            if case_id is not None and case_page_check(browser, path, content):
                sources["copy"] += 1
        except Failure as error:
            errors.append(str(error))
            time.sleep(0.05)
            continue
        if case_id is not None:
            seen[case_id] += 1


def sign_in(browser: Browser, username: str, password: str) -> None:
    _headers, page, _ms = browser.get("/accounts/login/")
    body = form_urlencoded(
        {
            "csrfmiddlewaretoken": csrf_token(page, "login"),
            "username": username,
            "password": password,
            "next": "",
        }
    )
    headers, _page, _ms = browser.post("/accounts/login/", *body)
    browser.follow(headers, expected_path="/desk/")


def write_and_submit(browser: Browser, record: dict, write_ms: list[float]) -> None:
    """One case, as a secretary makes it: write, save, open it, submit it."""
    _headers, page, _ms = browser.get("/submissions/new/")
    branch = BRANCH_RE.search(page)
    if branch is None:
        raise Failure("case form: no branch field")
    fields = {
        "csrfmiddlewaretoken": csrf_token(page, "case form"),
        "branch": branch[1].decode(),
        "title": record["title"],
        "tagline": "筑基·创新·暖心",
        "author_name": "压测书记",
        "source": "",
        "lead": "支部以高质量党建引领高质量发展，推动党建与业务深度融合。",
        "body": "<h2>一、筑基</h2><p>一是加强组织建设；二是规范组织生活。</p>",
        "save": "",
    }
    record["sent"] = True
    headers, _page, elapsed_ms = browser.post(
        "/submissions/new/", *form_multipart(fields, ["cover_image"])
    )
    write_ms.append(elapsed_ms)
    saved_at = EDIT_RE.fullmatch(headers.get("Location", ""))
    if saved_at is None:
        raise Failure(f"save redirected to {headers.get('Location')!r}")
    record["saved"] = True
    record["case_id"] = case_id = int(saved_at[1])
    browser.follow(headers)
    case_path = f"/submissions/{case_id}/"
    submit_path = f"/submissions/{case_id}/submit/"
    _headers, page, _ms = browser.get(case_path)
    if f'action="{submit_path}"'.encode() not in page:
        raise Failure(f"{case_path}: no submit button")
    record["submit_sent"] = True
    headers, _page, elapsed_ms = browser.post(
        submit_path, *form_urlencoded({"csrfmiddlewaretoken": csrf_token(page, "case")})
    )
    write_ms.append(elapsed_ms)
    _headers, page, _ms = browser.follow(headers, expected_path=case_path)
    if b"message--success" not in page or b"message--error" in page:
        raise Failure(f"{submit_path}: no success message")
    record["submitted"] = True


def writer(run: Run, index: int) -> None:
    args = run.args
    username = f"load-secretary-{index + 1}"
    browser = Browser(
        args.host,
        args.port,
        f"Mozilla/5.0 (X11; Linux x86_64) CaseHubLoad/{args.run} writer/{index}",
    )
    errors, writes, write_ms = [], [], []
    signed_in = False
    try:
        sign_in(browser, username, args.password)
        signed_in = True
    except Exception as error:  # whatever it was, this writer cannot write
        errors.append(f"{username} sign-in: {type(error).__name__}: {error}")
    # Sign-in is not part of the measured time: every worker starts together.
    run.gate.wait()
    try:
        if signed_in:
            _write_until_done(run, browser, username, index, writes, write_ms, errors)
    finally:
        run.report(
            browser,
            errors=errors,
            writes=writes,
            write_ms=write_ms,
            logins=int(signed_in),
        )


def _write_until_done(run, browser, username, index, writes, write_ms, errors):
    args = run.args
    number = 0
    while run.running():
        number += 1
        record = {
            "title": f"压测{args.run}-{index + 1:02d}-{number:05d}",
            "writer": username,
            "sent": False,
            "saved": False,
            "case_id": None,
            "submit_sent": False,
            "submitted": False,
        }
        writes.append(record)
        try:
            write_and_submit(browser, record, write_ms)
        except Failure as error:
            errors.append(f"{username}: {error}")
            time.sleep(0.05)


def percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))
    return ordered[rank]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--plan", required=True, help="JSON from load_check snapshot")
    parser.add_argument("--report", required=True, help="where the JSON report goes")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--readers", type=int, default=100)
    parser.add_argument("--writers", type=int, default=10)
    parser.add_argument("--password", default="casehub-load")
    parser.add_argument(
        "--address-reads",
        type=int,
        required=True,
        help="reads one address may add in an hour (showcase.counter.ADDRESS_READS)",
    )
    parser.add_argument("--run", default=uuid.uuid4().hex[:8])
    args = parser.parse_args()
    with open(args.plan) as plan_file:
        plan = json.load(plan_file)

    run = Run(args, plan)

    def thread_died(hook_args):
        with run.lock:
            run.errors.append(f"{hook_args.thread.name}: {hook_args.exc_value!r}")

    threading.excepthook = thread_died
    threads = [
        threading.Thread(target=reader, args=(run, n), name=f"reader-{n}")
        for n in range(args.readers)
    ] + [
        threading.Thread(target=writer, args=(run, n), name=f"writer-{n}")
        for n in range(args.writers)
    ]
    for thread in threads:
        thread.start()
    run.gate.wait()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - run.started

    writes = run.writes
    status_5xx = sum(n for status, n in run.statuses.items() if status >= 500)
    status_4xx = sum(n for status, n in run.statuses.items() if 400 <= status < 500)
    figures = {
        "load_seconds": f"{args.seconds:g}",
        "readers": args.readers,
        "writers": args.writers,
        "logins": run.logins,
        "requests": sum(run.statuses.values()),
        "reads": len(run.read_ms),
        "case_reads": run.case_reads,
        "load_case_reads_from_copy": run.case_reads_from_copy,
        "load_case_reads_from_django": run.case_reads - run.case_reads_from_copy,
        "read_rps": f"{len(run.read_ms) / elapsed:.1f}",
        "read_p50_ms": f"{percentile(run.read_ms, 0.50):.1f}",
        "read_p95_ms": f"{percentile(run.read_ms, 0.95):.1f}",
        "read_p99_ms": f"{percentile(run.read_ms, 0.99):.1f}",
        "writes_sent": sum(w["sent"] for w in writes),
        "writes_saved": sum(w["saved"] for w in writes),
        "submissions_sent": sum(w["submit_sent"] for w in writes),
        "submissions_ok": sum(w["submitted"] for w in writes),
        "write_post_p50_ms": f"{percentile(run.write_ms, 0.50):.1f}",
        "write_post_p95_ms": f"{percentile(run.write_ms, 0.95):.1f}",
        "http_4xx": status_4xx,
        "http_5xx": status_5xx,
        "errors": len(run.errors),
    }
    for name, value in figures.items():
        print(f"{name}={value}")
    for error in run.errors[:10]:
        print(f"load error: {error}", file=sys.stderr)
    report = {
        "run": args.run,
        "figures": figures,
        "statuses": {str(status): n for status, n in sorted(run.statuses.items())},
        "errors": run.errors,
        "views_expected": {str(case_id): n for case_id, n in run.views.items()},
        "writes": writes,
    }
    with open(args.report, "w") as report_file:
        json.dump(report, report_file, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
