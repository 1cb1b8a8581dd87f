"""Load test: two app servers on PostgreSQL under 50 simulated users, then a check that no
acknowledged write was lost.

    uv run python bench/load.py                      # 60 s measured after 10 s of warm-up
    uv run python bench/load.py --seconds 30 --warmup 5
    uv run python bench/load.py --think 0            # no think time: the servers' saturation
    uv run python bench/load.py --conn-max-age 0     # a new database connection per request
    uv run python bench/load.py --from-database NAME # clone an already seeded database (quicker)

The script makes a fresh PostgreSQL database, migrates it and seeds the demo company
(``foodflow demo --no-serve``), starts two ``foodflow serve`` processes (gunicorn, 2 workers
each) on loopback and drives them from this process: reps browse and enter quotations and
orders, managers and the director approve, planners review and reserve, finance records
payments, each user logged in with its demo account (pages with a session, writes through
the REST API with a token). Every write the servers acknowledge is written down; after the
run a child process with Django checks in the database that each one is there, that the
stock ledger balances and that no document number was skipped. See README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import httpx
from _harness import POSTGRES_SERVER, ROOT

PASSWORD = "FoodFlow-2026"  # every demo user's (README, "Demo logins")
TARGET_P95_READ_MS = 200
TARGET_P95_WRITE_MS = 300
BROWSE_SHARE = 0.6  # of each user's actions; the rest is the role's own write
# role, users of 50, demo accounts taken in turn. The shares give the mix of the issue:
# browse 60 %, quotations and orders 20 %, approvals 5 %, reservations 7 %, payments 8 %.
CREWS = (
    ("rep", 25, ("rep", "rep2", "rep3", "rep4", "rep5", "rep6", "rep7")),
    ("approver", 6, ("manager", "manager2", "director")),
    ("planner", 9, ("planner",)),
    ("finance", 10, ("finance",)),
)
# the reps whose team manager is a demo user: only their discounts find an approver
REPS_WITH_MANAGER = ("rep", "rep2", "rep3")
DISCOUNT_ABOVE_REP_CEILING = "0.08"  # reps may give 5 % (roles.py), managers 10 %
WRITE_CLASS = {"rep": "create", "approver": "approve", "planner": "reserve", "finance": "pay"}
HTTP_TIMEOUT = 30.0
EXPECTED_REFUSALS = (409, 422)  # business refusals ("already decided", "not enough stock")


# --- the pages each role browses ------------------------------------------------------------------


def _customer_page(user) -> str:
    return f"/crm/customers/{user.rng.choice(user.customers)['id']}/"


PAGES = {
    "rep": {
        "home": "/",
        "customers": "/crm/customers/",
        "customer": _customer_page,
        "orders": "/sales/orders/",
        "quotations": "/sales/quotations/",
        "products": "/catalog/products/",
    },
    "approver": {
        "home": "/",
        "approvals": "/sales/approvals/",
        "orders": "/sales/orders/",
        "quotations": "/sales/quotations/",
        "customers": "/crm/customers/",
        "customer": _customer_page,
    },
    "planner": {
        "home": "/",
        "review queue": "/sales/review/",
        "stock": "/stock/",
        "orders": "/sales/orders/",
        "products": "/catalog/products/",
    },
    "finance": {
        "home": "/",
        "receivables": "/sales/receivables/",
        "payments": "/sales/payments/",
        "customers": "/crm/customers/",
        "customer": _customer_page,
    },
}


# --- what is measured -----------------------------------------------------------------------------


@dataclass
class Sample:
    name: str
    kind: str  # read (GET) or write
    page: bool  # an HTML page (else the API)
    start: float
    ms: float
    outcome: str  # ok, refused, error
    detail: str = ""


@dataclass
class Recorder:
    """Every request of every user, and the writes the servers acknowledged."""

    samples: list[Sample] = field(default_factory=list)
    acks: list[dict] = field(default_factory=list)
    actions: list[tuple[str, float, float]] = field(default_factory=list)  # class, start, ms
    idle: Counter = field(default_factory=Counter)
    bugs: Counter = field(default_factory=Counter)

    def call(self, client, method: str, url: str, name: str, *, expect=(200,), page=False, **kwargs):
        """The response when it is one of ``expect``; None otherwise (refused or failed)."""
        kind = "read" if method == "GET" else "write"
        start = time.monotonic()
        try:
            response = client.request(method, url, **kwargs)
        except Exception as error:  # a transport failure (refused connection, timeout…) is an error
            self._add(name, kind, page, start, "error", f"transport {error.__class__.__name__}")
            return None
        if response.status_code in expect:
            self._add(name, kind, page, start, "ok")
            return response
        code = _error_code(response)
        if response.status_code in EXPECTED_REFUSALS and code != "idempotency_key_reused":
            self._add(name, kind, page, start, "refused", code)
        else:
            self._add(name, kind, page, start, "error", f"{response.status_code} {code}")
        return None

    def _add(self, name, kind, page, start, outcome, detail=""):
        self.samples.append(Sample(name, kind, page, start, (time.monotonic() - start) * 1000, outcome, detail))

    def ack(self, kind: str, **facts) -> None:
        self.acks.append({"kind": kind, **facts})


def _error_code(response) -> str:
    try:
        return str(response.json().get("code", ""))
    except Exception:  # an HTML error page or an empty body
        return ""


# --- the simulated users ---------------------------------------------------------------------------


@dataclass
class User:
    role: str
    account: str
    web: httpx.Client  # with the session cookie
    api: httpx.Client  # with the token
    rng: random.Random
    customers: list[dict]
    products: list[int]


def run_user(user: User, rec: Recorder, deadline: float, think: float) -> None:
    time.sleep(user.rng.uniform(0, max(think, 0.5)))  # users do not all start at the same instant
    write = WRITE_CLASS[user.role]
    while time.monotonic() < deadline:
        kind = "browse" if user.rng.random() < BROWSE_SHARE else write
        start = time.monotonic()
        try:
            ACTIONS[kind](user, rec)
        except Exception as error:  # the generator's own failure: counted, shown, not hidden
            rec.bugs[f"{kind}: {error.__class__.__name__}: {error}"[:160]] += 1
        rec.actions.append((kind, start, (time.monotonic() - start) * 1000))
        if think > 0:
            time.sleep(min(user.rng.expovariate(1 / think), max(0.0, deadline - time.monotonic())))


def browse(user: User, rec: Recorder) -> None:
    label, page = user.rng.choice(list(PAGES[user.role].items()))
    path = page(user) if callable(page) else page
    rec.call(user.web, "GET", path, f"page {label}", page=True)


def _lines(user: User, *, discount: bool) -> list[dict]:
    products = user.rng.sample(user.products, user.rng.randint(1, 4))
    lines = [{"product": product, "quantity": str(user.rng.randint(1, 12))} for product in products]
    if discount:
        lines[0]["discount"] = DISCOUNT_ABOVE_REP_CEILING
    return lines


def _wants_discount(user: User) -> bool:
    return user.account in REPS_WITH_MANAGER and user.rng.random() < 0.5


def create(user: User, rec: Recorder) -> None:
    """A rep: a quotation or an order, entered and submitted; now and then an approved
    quotation taken on to an order."""
    draw = user.rng.random()
    if draw < 0.15 and quotation_to_order(user, rec):
        return
    if draw < 0.55:
        document_enter(user, rec, "quotation")
    else:
        document_enter(user, rec, "order")


def document_enter(user: User, rec: Recorder, doc: str) -> None:
    key = str(uuid.uuid4())
    body = {"customer": user.rng.choice(user.customers)["id"], "lines": _lines(user, discount=_wants_discount(user))}
    if doc == "order":
        body["customer_reference"] = f"LOAD-{key[:12]}"
    url = f"/api/v1/{doc}s/"
    headers = {"Idempotency-Key": key}
    response = rec.call(user.api, "POST", url, f"{doc} create", expect=(201,), json=body, headers=headers)
    if response is None:
        return
    created = response.json()
    rec.ack(doc, id=created["id"], number=created["number"], state=created["state"])
    if user.rng.random() < 0.05:  # a client that lost the answer sends the same request again
        again = rec.call(user.api, "POST", url, f"{doc} create (retry)", expect=(201,), json=body, headers=headers)
        if again is not None and (again.json()["id"] != created["id"] or "Idempotent-Replayed" not in again.headers):
            rec.bugs[f"{doc} create retried with the same key made another document"] += 1
    submitted = rec.call(user.api, "POST", f"{url}{created['id']}/submit/", f"{doc} submit")
    if submitted is not None:
        rec.ack(doc, id=created["id"], number=created["number"], state=submitted.json()["state"])


def quotation_to_order(user: User, rec: Recorder) -> bool:
    """The customer said yes: send, accept, order, submit. False when nothing is approved."""
    params = {"state": "approved", "is_current": "true", "page_size": 10}
    found = rec.call(user.api, "GET", "/api/v1/quotations/", "api approved quotations", params=params)
    if found is None or not found.json()["results"]:
        return False
    quotation = user.rng.choice(found.json()["results"])
    base = f"/api/v1/quotations/{quotation['id']}"
    for step in ("send", "accept"):
        response = rec.call(user.api, "POST", f"{base}/{step}/", f"quotation {step}")
        if response is None:
            return True
        rec.ack("quotation", id=quotation["id"], number=quotation["number"], state=response.json()["state"])
    key = str(uuid.uuid4())
    response = rec.call(
        user.api,
        "POST",
        f"{base}/order/",
        "quotation order",
        expect=(201,),
        json={"customer_reference": f"LOAD-{key[:12]}"},
        headers={"Idempotency-Key": key},
    )
    if response is None:
        return True
    order = response.json()
    rec.ack("order", id=order["id"], number=order["number"], state=order["state"])
    submitted = rec.call(user.api, "POST", f"/api/v1/orders/{order['id']}/submit/", "order submit")
    if submitted is not None:
        rec.ack("order", id=order["id"], number=order["number"], state=submitted.json()["state"])
    return True


def approve(user: User, rec: Recorder) -> None:
    """A manager or the director: one step of their queue, approved."""
    queue = rec.call(user.api, "GET", "/api/v1/approvals/", "api approval queue", params={"page_size": 10})
    if queue is None:
        return
    steps = [step for step in queue.json()["results"] if step["doc_type"] in ("quotation", "order")]
    if not steps:
        rec.idle["approve: queue empty"] += 1
        return
    step = user.rng.choice(steps[:5])
    body = {"approve": True, "comment": "load test"}
    decided = rec.call(user.api, "POST", f"/api/v1/approvals/{step['id']}/decide/", "approval decide", json=body)
    if decided is not None:
        rec.ack("approval", step=step["id"], by=user.account)


def reserve(user: User, rec: Recorder) -> None:
    """A planner: a confirmed order reviewed; reserved when the stock is there."""
    params = {"state": "confirmed", "is_current": "true", "page_size": 20}
    found = rec.call(user.api, "GET", "/api/v1/orders/", "api confirmed orders", params=params)
    if found is None:
        return
    orders = found.json()["results"]
    if not orders:
        rec.idle["reserve: no confirmed order"] += 1
        return
    order = user.rng.choice(orders)
    url = f"/api/v1/orders/{order['id']}/review/"
    findings = rec.call(user.api, "GET", url, "api order review check")
    if findings is None:
        return
    facts = findings.json()
    decision = "credit_hold" if not facts["credit_ok"] else "reserve" if facts["stock_ok"] else "production"
    decided = rec.call(user.api, "POST", url, f"order review {decision}", json={"decision": decision})
    if decided is not None:
        state = decided.json()["state"]
        rec.ack("order", id=order["id"], number=order["number"], state=state)
        if decision != "credit_hold":
            rec.ack("reservation", order=order["id"], number=order["number"], complete=decision == "reserve")


def pay(user: User, rec: Recorder) -> None:
    """Finance: money received for an open receivable (part or all of it)."""
    params = {"state": user.rng.choice(("issued", "open")), "page_size": 50}
    found = rec.call(user.api, "GET", "/api/v1/receivables/", "api open receivables", params=params)
    if found is None:
        return
    receivables = [item for item in found.json()["results"] if Decimal(item["open_amount"]) > 0]
    amount = Decimal(user.rng.randint(100, 3000))
    if receivables:
        invoice = user.rng.choice(receivables)
        amount = min(amount, Decimal(invoice["open_amount"]))
        customer, allocations = invoice["customer"], [{"invoice": invoice["id"], "amount": str(amount)}]
    else:  # everything is paid: money on account
        rec.idle["pay: no open receivable, paid on account"] += 1
        customer, allocations = user.rng.choice(user.customers)["id"], []
    key = str(uuid.uuid4())
    body = {"customer": customer, "amount": str(amount), "reference": f"LOAD-{key[:12]}", "allocations": allocations}
    headers = {"Idempotency-Key": key}
    response = rec.call(
        user.api, "POST", "/api/v1/payments/", "payment record", expect=(201,), json=body, headers=headers
    )
    if response is not None:
        payment = response.json()
        rec.ack(
            "payment",
            id=payment["id"],
            number=payment["number"],
            amount=payment["amount"],
            customer=payment["customer"],
            allocations=[[item["invoice"], item["amount"]] for item in payment["allocations"]],
        )


ACTIONS = {"browse": browse, "create": create, "approve": approve, "reserve": reserve, "pay": pay}


# --- setting up: database, servers, logins ---------------------------------------------------------


def app_env(database_url: str, var_dir: str, conn_max_age: int) -> dict:
    inherited = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
    return {
        **inherited,
        # an installed application has its bytecode compiled; without a cache every worker
        # compiles every module again on its first request (seconds of CPU each). The cache
        # goes to the run's folder, not next to the sources.
        "PYTHONPYCACHEPREFIX": str(Path(var_dir) / "pycache"),
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "foodflow.settings.dev",
        "DEBUG": "0",  # DEBUG keeps every query in memory: not what a server runs with
        "FOODFLOW_DEMO": "1",
        "FOODFLOW_VAR_DIR": var_dir,
        "CELERY_BROKER_URL": "",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "LOG_LEVEL": "WARNING",
        "CONN_MAX_AGE": str(conn_max_age),
        # two gunicorns on one host would share the default control socket path
        "GUNICORN_CMD_ARGS": "--no-control-socket",
    }


def foodflow(*args: str) -> list[str]:
    return [sys.executable, "-m", "foodflow.cli", *args]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    process: subprocess.Popen
    base: str
    log: Path


def servers_start(count: int, workers: int, env: dict, log_dir: Path) -> list[Server]:
    servers = []
    for index in range(count):
        base, log = f"127.0.0.1:{free_port()}", log_dir / f"server-{index}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                foodflow("serve", "--bind", base, "--workers", str(workers)),
                env=env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        servers.append(Server(process, f"http://{base}", log))
    return servers


def servers_wait(servers: list[Server], timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    for server in servers:
        while True:
            if server.process.poll() is not None:
                raise RuntimeError(f"server {server.base} exited: {server.log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{server.base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"server {server.base} not healthy after {timeout:.0f} s")
            time.sleep(0.3)


def servers_stop(servers: list[Server]) -> None:
    for server in servers:
        if server.process.poll() is None:
            server.process.send_signal(signal.SIGTERM)  # gunicorn's graceful stop (the master we started)
    for server in servers:
        try:
            server.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


def server_errors_print(servers: list[Server], most: int = 3) -> None:
    """The servers' own account of their 5xx answers: the first tracebacks of their logs."""
    shown = 0
    for server in servers:
        block: list[str] = []
        for line in server.log.read_text(errors="replace").splitlines():
            if line.startswith(("Internal Server Error", "Traceback")) and not block:
                block = [line]
            elif block:
                block.append(line)
                if not line.startswith((" ", "Traceback", "During handling", "The above")) and len(block) > 2:
                    print("\n".join(f"#   {text}" for text in block[-25:]))
                    block, shown = [], shown + 1
                    if shown >= most:
                        return


def users_make(servers: list[Server], total: int, seed: int) -> list[User]:
    """The simulated users, logged in: a token per demo account (shared by the users of that
    account) and a session per user, on the user's server (taken in turn)."""
    first = servers[0].base
    accounts = sorted({account for _role, _share, names in CREWS for account in names})
    tokens, customers = {}, {}
    for account in accounts:
        answer = httpx.post(f"{first}/api/v1/auth/token/", json={"username": account, "password": PASSWORD})
        tokens[account] = answer.raise_for_status().json()["token"]
        with httpx.Client(base_url=first, headers={"Authorization": f"Token {tokens[account]}"}, timeout=60) as api:
            customers[account] = customers_with_credit(api)  # those in the account's scope
            if account == "planner":
                products = products_in_stock(api)
    plan = []
    for role, share, names in CREWS:
        count = max(1, round(total * share / 50))
        plan += [(role, names[index % len(names)]) for index in range(count)]
    # a client drops a connection idle for a second, before gunicorn's keep-alive (2 s) closes it
    # under its feet; browsers retry such a request, httpx does not
    limits = httpx.Limits(keepalive_expiry=1.0)
    users = []
    for index, (role, account) in enumerate(plan):
        server = servers[index % len(servers)]
        web = httpx.Client(base_url=server.base, timeout=HTTP_TIMEOUT, limits=limits)
        api = httpx.Client(
            base_url=server.base,
            timeout=HTTP_TIMEOUT,
            limits=limits,
            headers={"Authorization": f"Token {tokens[account]}"},
        )
        rng = random.Random(seed * 1000 + index)
        users.append(User(role, account, web, api, rng, customers[account], products))
    with ThreadPoolExecutor(max_workers=8) as pool:  # a login hashes with Argon2 (100 MB each)
        list(pool.map(web_login, users))
    return users


def workers_warm(servers: list[Server], timeout: float = 180.0) -> float:
    """Every worker's first request imports the URLconf (every view, WeasyPrint included) and
    compiles templates: done before measuring, by rounds of concurrent requests on new
    connections (the workers of a server take them as they come), at least three, until one
    answers quickly."""
    started = time.monotonic()

    def one(base):
        began = time.monotonic()
        httpx.get(f"{base}/accounts/login/", timeout=timeout).raise_for_status()
        return time.monotonic() - began

    rounds, slowest = 0, float("inf")
    with ThreadPoolExecutor(max_workers=8 * len(servers)) as pool:
        while (rounds < 3 or slowest > 2.0) and time.monotonic() - started < timeout:
            slowest = max(pool.map(one, [server.base for server in servers for _ in range(8)]))
            rounds += 1
    return time.monotonic() - started


def web_login(user: User) -> None:
    user.web.get("/accounts/login/")
    token = user.web.cookies.get("csrftoken")
    answer = user.web.post(
        "/accounts/login/", data={"username": user.account, "password": PASSWORD, "csrfmiddlewaretoken": token}
    )
    if answer.status_code != 302:
        raise RuntimeError(f"login of {user.account} failed: {answer.status_code}")


def products_in_stock(client) -> list[int]:
    """Products with at least 300 cases free: most orders find their stock."""
    free: dict[int, Decimal] = defaultdict(Decimal)
    url = "/api/v1/stock-balances/?page_size=200"
    while url:
        page = client.get(url).raise_for_status().json()
        for row in page["results"]:
            free[row["product"]] += Decimal(row["on_hand"]) - Decimal(row["reserved"])
        url = page["next"]
    return sorted(product for product, quantity in free.items() if quantity >= 300)


def customers_with_credit(client) -> list[dict]:
    found, url = [], "/api/v1/customers/?status=active&page_size=200"
    while url:
        answer = client.get(url)
        if answer.status_code == 403:  # a role without the customer area (the planner)
            return []
        page = answer.raise_for_status().json()
        found += [row for row in page["results"] if Decimal(row["credit_limit"]) >= 50000]
        url = page["next"]
    return found


# --- where the CPU goes ----------------------------------------------------------------------------

CLOCK = os.sysconf("SC_CLK_TCK")


def _processes() -> dict[int, tuple[str, int, float, float]]:
    """pid: (command, parent, own CPU s, reaped children's CPU s) of every process."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            text = Path(f"/proc/{entry}/stat").read_text()
        except OSError:  # gone meanwhile
            continue
        command = text[text.index("(") + 1 : text.rindex(")")]
        fields = text[text.rindex(")") + 2 :].split()
        own = (int(fields[11]) + int(fields[12])) / CLOCK
        children = (int(fields[13]) + int(fields[14])) / CLOCK
        found[int(entry)] = (command, int(fields[1]), own, children)
    return found


def _tree_cpu(processes, root: int) -> float:
    """CPU of a process and all its descendants, the finished ones included."""
    if root not in processes:
        return 0.0
    _command, _parent, own, reaped = processes[root]
    return own + reaped + sum(_tree_cpu(processes, pid) for pid, row in processes.items() if row[1] == root)


def cpu_snapshot(servers: list[Server], database: str) -> dict:
    processes = _processes()
    postmasters = [
        pid
        for pid, (command, parent, _own, _reaped) in processes.items()
        if command.startswith("postgres") and not processes.get(parent, ("",))[0].startswith("postgres")
    ]
    with open("/proc/stat") as stat:
        ticks = [int(value) for value in stat.readline().split()[1:]]
    times = os.times()
    return {
        "servers": sum(_tree_cpu(processes, server.process.pid) for server in servers),
        "postgres": sum(_tree_cpu(processes, pid) for pid in postmasters),
        "generator": times.user + times.system,
        "machine busy": (sum(ticks) - ticks[3] - ticks[4]) / CLOCK,
        "machine": sum(ticks) / CLOCK,
        "backends": _backends_cpu(processes, database),
    }


def _backends_cpu(processes, database: str) -> dict[int, float]:
    """CPU of the PostgreSQL backends serving this database (their title names it)."""
    found = {}
    for pid, (command, _parent, own, _reaped) in processes.items():
        if not command.startswith("postgres"):
            continue
        try:
            title = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if f" {database} " in title:
            found[pid] = own
    return found


def cpu_used(before: dict, after: dict) -> dict[str, float]:
    """CPU seconds between two snapshots. The backends of this database are those alive at the
    end (with persistent connections nearly all of them; with CONN_MAX_AGE=0 most are gone)."""
    used = {name: after[name] - before[name] for name in after if name != "backends"}
    used["postgres (this database)"] = sum(
        cpu - before["backends"].get(pid, 0.0) for pid, cpu in after["backends"].items()
    )
    return used


class WaitSampler(threading.Thread):
    """What the database's backends are doing, four times a second: on CPU, or waiting (and on
    what, with the statement that waits)."""

    def __init__(self, database_url: str):
        super().__init__(daemon=True)
        self.database_url, self.stop, self.samples = database_url, threading.Event(), 0
        self.states: Counter = Counter()
        self.waiting: Counter = Counter()  # statement (its start) waiting for a lock
        self.tables: Counter = Counter()  # the table it reads, writes or locks

    def run(self):
        import psycopg

        with psycopg.connect(self.database_url, autocommit=True) as connection:
            while not self.stop.wait(0.25):
                rows = connection.execute(
                    "SELECT state, wait_event_type, wait_event, query FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid() AND state <> 'idle'"
                ).fetchall()
                self.samples += 1
                for state, wait_type, wait_event, query in rows:
                    if state == "idle in transaction":
                        self.states["in a transaction, waiting for the app"] += 1
                    elif wait_type is None:
                        self.states["running"] += 1
                    else:
                        self.states[f"waiting {wait_type}:{wait_event}"] += 1
                    if wait_type == "Lock":
                        self.waiting[" ".join(query.split())[:110]] += 1
                        # the first table named (the text stops at track_activity_query_size)
                        table = re.search(r'(?:FROM|INTO|UPDATE) "(\w+)"', query) or re.search(r'"(\w+)"\."', query)
                        self.tables[table[1] if table else "?"] += 1


# --- the report --------------------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))]


def report(rec: Recorder, window: tuple[float, float], cpu: dict, sampler: WaitSampler) -> dict:
    measured = [s for s in rec.samples if window[0] <= s.start < window[1]]
    seconds = window[1] - window[0]
    actions = [a for a in rec.actions if window[0] <= a[1] < window[1]]
    mix = Counter(kind for kind, _start, _ms in actions)
    print(f"# {'action (all its requests)':32} {'share':>5} {'count':>6} {'p50':>7} {'p95':>7} {'p99':>7} ms")
    for kind in ACTIONS:
        times = [ms for k, _start, ms in actions if k == kind]
        p50, p95, p99 = (percentile(times, q) for q in (0.5, 0.95, 0.99))
        share = mix[kind] / max(1, len(actions)) * 100
        print(f"# {kind:32} {share:4.0f}% {mix[kind]:6} {p50:7.0f} {p95:7.0f} {p99:7.0f}")
    by_name: dict[str, list[Sample]] = defaultdict(list)
    for sample in measured:
        by_name[sample.name].append(sample)
    print(f"# {'request':32} {'kind':5} {'count':>6} {'refused':>7} {'errors':>6} {'p50':>7} {'p95':>7} {'p99':>7} ms")
    for name in sorted(by_name, key=lambda n: (by_name[n][0].kind, not by_name[n][0].page, n)):
        samples = by_name[name]
        times = [s.ms for s in samples]
        refused = sum(s.outcome == "refused" for s in samples)
        errors = sum(s.outcome == "error" for s in samples)
        p50, p95, p99 = (percentile(times, q) for q in (0.5, 0.95, 0.99))
        print(
            f"# {name:32} {samples[0].kind:5} {len(samples):6} {refused:7} {errors:6} {p50:7.0f} {p95:7.0f} {p99:7.0f}"
        )
    reads = [s.ms for s in measured if s.kind == "read"]
    pages = [s.ms for s in measured if s.page]
    writes = [s.ms for s in measured if s.kind == "write"]
    errors = [s for s in measured if s.outcome == "error"]
    refusals = Counter(f"{s.name}: {s.detail}" for s in measured if s.outcome == "refused")
    print(
        f"# reads {len(reads)} (pages {len(pages)}: p50 {percentile(pages, 0.5):.0f} ms, "
        f"p95 {percentile(pages, 0.95):.0f} ms), writes {len(writes)}, refused {sum(refusals.values())}, "
        f"errors {len(errors)}"
    )
    for detail, count in Counter(f"{s.name}: {s.detail}" for s in errors).most_common(10):
        print(f"#   error   {count:5} × {detail}")
    for detail, count in refusals.most_common(10):
        print(f"#   refused {count:5} × {detail}")
    for detail, count in (rec.idle + rec.bugs).most_common():
        print(f"#   {'bug' if detail in rec.bugs else 'idle':7} {count:5} × {detail}")
    throughput = len(measured) / seconds
    cpu_report(cpu, seconds)
    waits_report(sampler)
    limit_report(cpu, seconds, sampler)
    return {
        "errors": len(errors) + sum(rec.bugs.values()),
        "p95_read": percentile(reads, 0.95),
        "p95_write": percentile(writes, 0.95),
        "throughput": throughput,
    }


def cpu_report(cpu: dict, seconds: float) -> None:
    """Where the machine's CPU went over the measured window, in cores (CPU seconds per second)."""
    cores = os.cpu_count() or 1
    busy = cpu["machine busy"] / cpu["machine"] * 100 if cpu["machine"] else 0.0
    ours = {name: cpu[name] for name in ("servers", "postgres", "generator")}
    other = max(0.0, cpu["machine busy"] - sum(ours.values()))
    parts = ", ".join(f"{name} {value / seconds:.2f}" for name, value in {**ours, "other processes": other}.items())
    print(f"# CPU in cores of {cores}: {parts}; the machine {busy:.0f} % busy")
    print(
        f"#   postgres: every database of the server; its backends serving this run: "
        f"{cpu['postgres (this database)'] / seconds:.2f} (counted when alive at the end)"
    )


def waits_report(sampler: WaitSampler) -> None:
    if not sampler.samples:
        return
    per_sample = ", ".join(f"{name} {count / sampler.samples:.2f}" for name, count in sampler.states.most_common(6))
    print(f"# database backends of this run, on average at any instant: {per_sample}")
    for query, count in sampler.waiting.most_common(3):
        print(f"#   waiting for a lock {count / sampler.samples:.2f}: {query}")


def limit_report(cpu: dict, seconds: float, sampler: WaitSampler) -> None:
    """The part that limits, as measured: the CPU when the machine is saturated (and who uses
    it), and the row locks the writes queue on."""
    busy = cpu["machine busy"] / cpu["machine"] * 100 if cpu["machine"] else 0.0
    users = {"app servers": cpu["servers"], "PostgreSQL": cpu["postgres"], "the load generator": cpu["generator"]}
    users["other processes"] = max(0.0, cpu["machine busy"] - sum(users.values()))
    ranked = ", ".join(f"{name} {value / seconds:.2f}" for name, value in sorted(users.items(), key=lambda i: -i[1]))
    saturated = "saturated" if busy >= 90 else "not saturated"
    print(f"# limit: the CPU is {saturated} ({busy:.0f} % of {os.cpu_count()} cores busy; in cores: {ranked})")
    if not sampler.samples:
        return
    locked = sum(count for state, count in sampler.states.items() if state.startswith("waiting Lock"))
    waiting = locked / sampler.samples
    on = ", ".join(f"{table} {count / sampler.samples:.2f}" for table, count in sampler.tables.most_common(3))
    print(f"# limit: {waiting:.2f} backends wait for a row lock at any instant on average ({on or 'none'})")


# --- the check after the run (a child with Django) ------------------------------------------------------


def verify(acks_file: str) -> int:
    """Prints what is missing; writes the count of lost writes to the file's ``.result``."""
    import django

    django.setup()
    from django.core.management import call_command

    from foodflow.sales.workflows import ORDER_FLOW, QUOTATION_FLOW

    acks = json.loads(Path(acks_file).read_text())
    flows = {"order": ORDER_FLOW, "quotation": QUOTATION_FLOW}
    problems: list[str] = []
    problems += _documents_check([a for a in acks if a["kind"] in flows], flows)
    problems += _reservations_check([a for a in acks if a["kind"] == "reservation"])
    problems += _approvals_check([a for a in acks if a["kind"] == "approval"])
    problems += _payments_check([a for a in acks if a["kind"] == "payment"])
    missing = len(problems)
    ledger = _ledger_check()
    numbers = _numbers_check()
    for problem in [*problems, *ledger, *numbers][:30]:
        print(f"# LOST {problem}")
    kinds = Counter(a["kind"] for a in acks)
    per_kind = ", ".join(f"{kind} {count}" for kind, count in sorted(kinds.items()))
    print(
        f"# acknowledged writes checked: {sum(kinds.values())} ({per_kind}); "
        f"not found or not as acknowledged: {missing}; ledger mismatches: {len(ledger)}; number gaps: {len(numbers)}"
    )
    call_command("audit", "verify")
    Path(acks_file + ".result").write_text(str(missing + len(ledger) + len(numbers)))
    return 0


def _reachable(flow, state: str) -> set[str]:
    found, todo = {state}, [state]
    while todo:
        current = todo.pop()
        for item in flow.transitions:
            if current in item.sources and item.target not in found:
                found.add(item.target)
                todo.append(item.target)
    return found


def _documents_check(acks: list[dict], flows: dict) -> list[str]:
    from django.db.models import Count

    from foodflow.sales.models import Quotation, SalesOrder

    models = {"order": SalesOrder, "quotation": Quotation}
    problems = []
    for kind, model in models.items():
        mine = [a for a in acks if a["kind"] == kind]
        rows = {row.pk: row for row in model.objects.filter(pk__in={a["id"] for a in mine})}
        for ack in mine:
            row = rows.get(ack["id"])
            if row is None or row.number != ack["number"]:
                problems.append(f"{kind} {ack['number']} (id {ack['id']}) is not in the database")
            elif row.state not in _reachable(flows[kind], ack["state"]):
                problems.append(f"{kind} {ack['number']} is {row.state}, acknowledged {ack['state']}")
    duplicates = (
        SalesOrder.objects.filter(customer_reference__startswith="LOAD-")
        .values("customer_reference", "version")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    problems += [f"two orders made by one request: {row['customer_reference']}" for row in duplicates]
    return problems


def _reservations_check(acks: list[dict]) -> list[str]:
    from django.db.models import Sum

    from foodflow.inventory.models import Reservation
    from foodflow.sales.models import SalesOrder

    problems = []
    for ack in acks:
        order = SalesOrder.objects.filter(pk=ack["order"]).first()
        if order is None:
            problems.append(f"reserved order {ack['number']} is not in the database")
            continue
        wanted = dict(order.lines.values("product").annotate(q=Sum("quantity")).values_list("product", "q"))
        held = dict(
            Reservation.objects.filter(reference=str(order), status__in=("active", "issued"))
            .values("product")
            .annotate(q=Sum("quantity"))
            .values_list("product", "q")
        )
        if ack["complete"] and held != wanted:
            problems.append(f"order {ack['number']}: reserved {held}, its lines {wanted}")
        elif any(quantity > wanted.get(product, 0) for product, quantity in held.items()):
            problems.append(f"order {ack['number']}: reserved {held}, more than its lines {wanted}")
    return problems


def _approvals_check(acks: list[dict]) -> list[str]:
    from foodflow.sales.models import ApprovalStep

    steps = ApprovalStep.objects.select_related("decided_by").in_bulk([a["step"] for a in acks])
    problems = []
    for ack in acks:
        step = steps.get(ack["step"])
        if step is None or step.state != "approved" or step.decided_by.username != ack["by"]:
            problems.append(f"approval step {ack['step']} decided by {ack['by']} is not recorded as approved by them")
    return problems


def _payments_check(acks: list[dict]) -> list[str]:
    from foodflow.sales.models import Payment

    payments = Payment.objects.prefetch_related("allocations").in_bulk([a["id"] for a in acks])
    problems = []
    for ack in acks:
        payment = payments.get(ack["id"])
        if payment is None or payment.number != ack["number"]:
            problems.append(f"payment {ack['number']} is not in the database")
            continue
        allocations = sorted([a.invoice_id, str(a.amount)] for a in payment.allocations.all())
        if (str(payment.amount), payment.customer_id, allocations) != (
            ack["amount"],
            ack["customer"],
            sorted(ack["allocations"]),
        ):
            problems.append(f"payment {ack['number']} differs from its acknowledgement")
    return problems


LEDGER_SQL = {
    "stock balance ≠ the sum of its moves": """
        SELECT b.lot_id, b.warehouse_id FROM inventory_stockbalance b
        FULL JOIN (SELECT lot_id, warehouse_id, SUM(on_hand_change) AS on_hand, SUM(reserved_change) AS reserved
                   FROM inventory_stockmove GROUP BY lot_id, warehouse_id) m
          ON m.lot_id = b.lot_id AND m.warehouse_id = b.warehouse_id
        WHERE b.id IS NULL OR m.lot_id IS NULL OR b.on_hand <> m.on_hand OR b.reserved <> m.reserved""",
    "reserved ≠ the open active reservations": """
        SELECT b.lot_id, b.warehouse_id FROM inventory_stockbalance b
        LEFT JOIN (SELECT lot_id, warehouse_id, SUM(open_quantity) AS open FROM inventory_reservation
                   WHERE status = 'active' GROUP BY lot_id, warehouse_id) r
          ON r.lot_id = b.lot_id AND r.warehouse_id = b.warehouse_id
        WHERE b.reserved <> COALESCE(r.open, 0)""",
    "reserved above on hand": "SELECT lot_id, warehouse_id FROM inventory_stockbalance WHERE reserved > on_hand",
    "receivable paid ≠ its allocations": """
        SELECT i.number, NULL FROM sales_invoice i
        WHERE i.paid_amount
              <> (SELECT COALESCE(SUM(amount), 0) FROM sales_paymentallocation a WHERE a.invoice_id = i.id)""",
    "payment unallocated ≠ amount − allocations": """
        SELECT p.number, NULL FROM sales_payment p
        WHERE p.unallocated <> p.amount
              - (SELECT COALESCE(SUM(amount), 0) FROM sales_paymentallocation a WHERE a.payment_id = p.id)""",
}


def _ledger_check() -> list[str]:
    from django.db import connection

    problems = []
    with connection.cursor() as cursor:
        for what, sql in LEDGER_SQL.items():
            cursor.execute(sql)
            problems += [f"{what}: {row[0]} {row[1] or ''}".strip() for row in cursor.fetchall()]
    return problems


def _numbers_check() -> list[str]:
    """Each type's numbers of a year are exactly 1..last_number of its counter (versions of an
    amended document share one number)."""
    from django.apps import apps
    from django.db import models

    from foodflow.core.models import DocumentSequence

    pattern = re.compile(r"^([A-Z]+)-(\d{4})-(\d+)$")
    counters = {(s.doc_type, s.year): s.last_number for s in DocumentSequence.objects.all()}
    issued: dict[tuple[str, int], set[int]] = defaultdict(set)
    for model in apps.get_models():
        for name in ("number", "code"):
            try:
                column = model._meta.get_field(name)
            except Exception:  # the model has no such field
                continue
            if not isinstance(column, models.CharField):
                continue
            for value in model._default_manager.values_list(name, flat=True).distinct().iterator():
                match = pattern.match(value or "")
                if match and (match[1], int(match[2])) in counters:
                    issued[(match[1], int(match[2]))].add(int(match[3]))
    problems = []
    for key, last in sorted(counters.items()):
        numbers = issued.get(key, set())
        if numbers != set(range(1, last + 1)):
            gaps = sorted(set(range(1, last + 1)) - numbers)[:5]
            beyond = sorted(n for n in numbers if n > last)[:5]
            problems.append(f"{key[0]}-{key[1]}: counter {last}, missing {gaps}, beyond the counter {beyond}")
    return problems


# --- the run -------------------------------------------------------------------------------------------


def database_prepare(admin, name: str, template: str | None, env: dict) -> None:
    if template:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return
    admin.execute(f'CREATE DATABASE "{name}"')
    started = time.monotonic()
    done = subprocess.run(foodflow("demo", "--no-serve"), env=env, cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        print(done.stdout[-3000:], done.stderr[-3000:], sep="\n")
        raise RuntimeError("seeding the demo company failed")
    print(f"# demo company migrated and seeded in {time.monotonic() - started:.0f} s")


def load(args, database_url: str, work: Path) -> int:
    env = app_env(database_url, str(work), args.conn_max_age)
    # imports every module once, so that the servers' workers find them compiled
    subprocess.run(foodflow("check"), env=env, cwd=ROOT, check=True, capture_output=True)
    servers = servers_start(args.servers, args.workers, env, work)
    try:
        servers_wait(servers)
        print(f"# workers warmed up in {workers_warm(servers):.0f} s")
        rec, window, cpu, sampler = drive(servers, args, database_url)
    finally:
        servers_stop(servers)
    figures = report(rec, window, cpu, sampler)
    if any(s.outcome == "error" and s.detail.startswith("5") for s in rec.samples):
        server_errors_print(servers)
    acks_file = work / "acks.json"
    acks_file.write_text(json.dumps(rec.acks))
    checked = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--verify", str(acks_file)], env=env)
    result = Path(f"{acks_file}.result")
    figures["lost"] = int(result.read_text()) if result.exists() else -1
    figures_print(figures)
    return 1 if checked.returncode or figures["lost"] != 0 else 0


def drive(servers: list[Server], args, database_url: str):
    """The users, logged in, for the warm-up and the measured window; the CPU and the
    database's backends watched over the window."""
    users = users_make(servers, args.users, args.seed)
    roles = ", ".join(f"{count} {role}s" for role, count in Counter(u.role for u in users).items())
    print(
        f"# {len(servers)} servers × {args.workers} workers (gunicorn, {os.environ.get('WEB_THREADS', 4)} threads "
        f"each), {len(users)} users ({roles}), think time {args.think:g} s (mean), "
        f"CONN_MAX_AGE={args.conn_max_age}; {len(users[0].products)} products in stock"
    )
    rec, sampler, database = Recorder(), WaitSampler(database_url), database_url.rsplit("/", 1)[1]
    start = time.monotonic()
    window = (start + args.warmup, start + args.warmup + args.seconds)
    threads = [
        threading.Thread(target=run_user, args=(user, rec, window[1], args.think), daemon=True) for user in users
    ]
    for thread in threads:
        thread.start()
    time.sleep(max(0.0, window[0] - time.monotonic()))
    before = cpu_snapshot(servers, database)
    sampler.start()
    time.sleep(max(0.0, window[1] - time.monotonic()))
    after = cpu_snapshot(servers, database)
    sampler.stop.set()
    for thread in threads:
        thread.join()
    for user in users:
        user.web.close()
        user.api.close()
    return rec, window, cpu_used(before, after), sampler


def figures_print(figures: dict) -> None:
    print(f"FIGURE load_errors {figures['errors']} count")
    print(f"FIGURE load_lost_writes {figures['lost']} count")
    print(f"FIGURE load_p95_read_ms {figures['p95_read']:.0f} ms")
    print(f"FIGURE load_p95_write_ms {figures['p95_write']:.0f} ms")
    print(f"FIGURE load_throughput_rps {figures['throughput']:.1f} 1/s")
    checks = (
        (f"errors {figures['errors']} (target 0)", figures["errors"] == 0),
        (f"lost writes {figures['lost']} (target 0)", figures["lost"] == 0),
        (
            f"read p95 {figures['p95_read']:.0f} ms (target ≤ {TARGET_P95_READ_MS})",
            figures["p95_read"] <= TARGET_P95_READ_MS,
        ),
        (
            f"write p95 {figures['p95_write']:.0f} ms (target ≤ {TARGET_P95_WRITE_MS})",
            figures["p95_write"] <= TARGET_P95_WRITE_MS,
        ),
    )
    missed = [text for text, met in checks if not met]
    print(f"# targets: {'all met' if not missed else 'missed: ' + '; '.join(missed)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60, help="measured time (default 60)")
    parser.add_argument("--warmup", type=float, default=10, help="load before measuring (default 10)")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--think", type=float, default=5.0, help="mean think time between actions, s (default 5)")
    parser.add_argument("--servers", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per server (default 2)")
    parser.add_argument(
        "--conn-max-age", type=int, default=60, help="CONN_MAX_AGE of the servers (default 60: docs/deployment.md)"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--from-database", help="clone this seeded database instead of seeding a new one")
    parser.add_argument("--verify", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.verify:
        return verify(args.verify)
    print("NOTE SQLite is the single-machine embedded mode: it is not load-tested with several app servers")
    import psycopg

    try:
        admin = psycopg.connect(f"{POSTGRES_SERVER}/postgres", autocommit=True, connect_timeout=3)
    except Exception as error:  # any failure to connect means: no PostgreSQL here
        print(f"NOTE PostgreSQL is not reachable at {POSTGRES_SERVER} ({error.__class__.__name__}): skipped")
        return 0
    name = f"foodflow_load_{os.getpid()}"
    database_url = f"{POSTGRES_SERVER}/{name}"
    with admin, tempfile.TemporaryDirectory(prefix="foodflow-load-") as work:
        try:
            database_prepare(admin, name, args.from_database, app_env(database_url, work, 0))
            return load(args, database_url, Path(work))
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    sys.exit(main())
