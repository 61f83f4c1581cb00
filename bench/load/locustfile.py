"""A working day of the complaint platform, for locust (driven by bench/load/run.py, which sets the environment):

- frontline agents (the most) open the intake form, look the customer up, log a complaint, search orders;
- back-office handlers open their queue, claim an order, read it and reply;
- department leads watch their queues and open orders;
- quality managers and the centre read the dashboards and drill into the orders behind a number;
- channel systems post complaints over the API (each with an Idempotency-Key) and read them back.
A storm user (LOAD_STORM=1) adds a burst of API complaints about one area on top.

Think times are a working day's, compressed: an agent acts every 20–60 s (a real one logs a complaint every few
minutes), the channel systems post every 2–6 s each, about ten complaints a second together.

Every answer that is not what a user of the product would get counts as a failure: a lost claim race (409) is a
proper answer, anything 5xx or an unexpected 4xx is not.
"""

from __future__ import annotations

import os
import random
import re
import uuid

from locust import HttpUser, between, task

PASSWORD = os.environ.get("LOAD_PASSWORD", "")
API_KEY = os.environ.get("LOAD_API_KEY", "")
CATEGORIES = [c for c in os.environ.get("LOAD_CATEGORIES", "").split(",") if c]  # pk:code
AGENTS = ["agent_gz", "agent_sz", "agent_hall", "agent_outlet", "am_sz"]
HANDLERS = ["handler_network", "handler_billing", "handler_vas", "handler_marketing", "handler_it"]
LEADS = ["lead_network", "lead_billing", "lead_vas", "lead_marketing", "lead_gz_hotline"]
MANAGERS = ["quality", "manager_centre", "dispatcher"]
ORDER_LINK = re.compile(r'href="/orders/(TS\d+)/"')
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def phone() -> str:
    return f"13{random.randint(5, 9)}{random.randint(10_000_000, 99_999_999)}"


class Staff(HttpUser):
    abstract = True
    usernames: list[str] = []

    def on_start(self):
        page = self.client.get("/accounts/login/", name="login form")
        token = CSRF.search(page.text).group(1)
        username = random.choice(self.usernames)
        with self.client.post("/accounts/login/", {"username": username, "password": PASSWORD,
                                                   "csrfmiddlewaretoken": token},
                              name="login", catch_response=True, allow_redirects=False) as answer:
            if answer.status_code != 302:
                answer.failure(f"login of {username} answered {answer.status_code}")

    def post(self, url, data, *, name, ok=(200, 302)):
        headers = {"X-CSRFToken": self.client.cookies.get("csrftoken", ""), "Referer": self.host + url}
        with self.client.post(url, data, headers=headers, name=name, catch_response=True,
                              allow_redirects=False) as answer:
            if answer.status_code not in ok:
                answer.failure(f"{answer.status_code}: {answer.text[:200]}")
            return answer

    def browse(self, url, *, name):
        """A list page, then one of the orders it shows."""
        page = self.get(url, name=name)
        numbers = ORDER_LINK.findall(page.text or "")
        if numbers:
            self.get(f"/orders/{random.choice(numbers)}/", name="order detail")

    def get(self, url, *, name):
        with self.client.get(url, name=name, catch_response=True) as answer:
            if answer.status_code != 200:
                answer.failure(f"{answer.status_code}")
            return answer


class Agent(Staff):
    weight = 80
    wait_time = between(20, 60)  # a call or a customer at the counter between two actions
    usernames = AGENTS

    @task(4)
    def log_a_complaint(self):
        self.get("/intake/", name="intake form")
        number = phone()
        self.get(f"/intake/customer/?customer_phone={number}", name="intake customer panel")
        pk, _code = random.choice(CATEGORIES).split(":")
        self.post("/intake/", {"customer_phone": number, "customer_name": "", "kind": "complaint",
                               "channel": random.choice(["hotline", "hall", "web"]), "category": pk,
                               "severity": "ordinary", "description": "客户反映信号差，通话经常中断",
                               "note": "", "contact_phone": "", "customer_tier": "", "customer_brand": "",
                               "answer": "", "compensation": ""}, name="intake submit", ok=(302,))

    @task(3)
    def look_up(self):
        self.browse("/orders/", name="order search")


class Handler(Staff):
    weight = 60
    wait_time = between(20, 60)  # reading the case, calling the customer, fixing it
    usernames = HANDLERS

    @task(3)
    def claim_and_reply(self):
        queue = self.get("/work/queue/", name="work queue")
        numbers = ORDER_LINK.findall(queue.text or "")
        if not numbers:
            return
        number = random.choice(numbers[:20])
        claimed = self.post(f"/orders/{number}/actions/claim/", {}, name="claim", ok=(302, 409))
        if claimed.status_code != 302:
            return  # another handler was faster: a proper answer
        self.get(f"/orders/{number}/", name="order detail")
        self.post(f"/orders/{number}/actions/reply/", {"reply-answer": "已核实处理，问题已解决。",
                                                       "reply-result_code": "resolved", "reply-compensation": ""},
                  name="reply", ok=(302,))

    @task(2)
    def my_orders(self):
        self.get("/work/mine/", name="work mine")


class Lead(Staff):
    weight = 10
    wait_time = between(30, 90)
    usernames = LEADS

    @task
    def watch(self):
        self.browse("/work/queue/", name="work queue")


class Manager(Staff):
    weight = 10
    wait_time = between(30, 90)
    usernames = MANAGERS

    @task(3)
    def dashboards(self):
        self.get(random.choice(["/dashboard/", "/dashboard/department/", "/dashboard/kpis/",
                                "/dashboard/hotspots/"]), name="dashboard")

    @task(1)
    def drill_down(self):
        self.get("/dashboard/orders/?kpi=volume", name="dashboard drill-down")


class ChannelSystem(HttpUser):
    """Each stands for a channel system's connection forwarding many agents' and customers' complaints."""

    weight = 40
    wait_time = between(2, 6)

    def body(self, description="客户来电反映宽带无法上网", area=""):
        _pk, code = random.choice(CATEGORIES).split(":")
        return {"kind": "complaint", "channel": "hotline", "category": code, "description": description,
                "customer_phone": phone(), "area": area}

    def create(self, body, name):
        headers = {"Authorization": f"Token {API_KEY}", "Idempotency-Key": uuid.uuid4().hex}
        with self.client.post("/api/v1/orders/", json=body, headers=headers, name=name,
                              catch_response=True) as answer:
            if answer.status_code != 201:
                answer.failure(f"{answer.status_code}: {answer.text[:200]}")
                return None
            return answer.json()["number"]

    @task
    def post_and_read(self):
        number = self.create(self.body(), "api create")
        if number:
            self.client.get(f"/api/v1/orders/{number}/", headers={"Authorization": f"Token {API_KEY}"},
                            name="api read")


class Storm(ChannelSystem):
    """A weak cell fails: the same complaint from one area, as fast as the CTI forwards them."""

    abstract = os.environ.get("LOAD_STORM") != "1"
    weight = 60
    wait_time = between(0.2, 0.6)

    @task
    def post_and_read(self):
        body = self.body("突然没有信号，无法通话", area="天河体育中心基站")
        body["category"] = os.environ.get("LOAD_STORM_CATEGORY", body["category"])
        self.create(body, "api create (storm)")
