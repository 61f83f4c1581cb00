"""Drill: a Celery worker killed (SIGKILL) in the middle of the deadline sweep, and in the middle of a month's
accountability scoring. The next run must complete the work once: nothing lost, nothing doubled.

Sweep: a throw-away database (`complaints_bench_drill_kill`) gets --due stages past their warning point and
deadline (among --orders open orders, loaded with the sweep benchmark's SQL). A real worker on Redis is sent
`workflow.tasks.sla_sweep` and killed as soon as part of the work is committed; the state it leaves must be
consistent (every stamped stage has exactly its alert and event, no other has any). A new worker is then sent
the task (the next beat tick) and, after it, a third run that must change nothing. Checks: every due stage
warned and breached exactly once, one alert and one event of each kind per stage, one escalation per order, no
notification twice.

Scoring: the month's closed complaints (--scored, with the scores benchmark's SQL) are scored once to learn how
long it takes, the outputs removed, then `manage.py accountability_month` (what the worker runs) is killed at
30 %, 60 % and 90 % of that time: each time the month must have either no scores or the complete set, never a
part. A final run must produce exactly one score, notice and set of improvement orders per department — the
same figures as the reference run.

Prints each figure; exits 1 when a check fails.

    .venv/bin/python bench/drills/worker_kill.py [--orders 40000 --due 6000 --scored 40000]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.common import (  # noqa: E402
    ROOT,
    database_url,
    django_setup,
    flush_redis,
    manage,
    redis_url,
    reset_database,
    server_env,
)
from bench.drills.checks import check, verdict  # noqa: E402


def start_worker(env, tmp: Path, name: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel=WARNING", "--concurrency=1",
         "--pool=prefork", "-n", f"{name}-{os.getpid()}@%h"],
        cwd=ROOT, env=env, stdout=open(tmp / f"{name}.log", "w"), stderr=subprocess.STDOUT, start_new_session=True)


def kill(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


def sweep_figures(due_ids: list[int]) -> dict:
    from django.db.models import Count

    from workflow.models import Notification, OrderEvent, OrderStage, SlaAlert

    stages = OrderStage.objects.filter(pk__in=due_ids)
    alerts = SlaAlert.objects.filter(stage_id__in=due_ids)
    orders = stages.values_list("order_id", flat=True)
    events = OrderEvent.objects.filter(order_id__in=orders)
    return {
        "warned": stages.filter(warned_at__isnull=False).count(),
        "breached": stages.filter(overdue_at__isnull=False).count(),
        "warning alerts": alerts.filter(kind="warning").count(),
        "overdue alerts": alerts.filter(kind="overdue").count(),
        "deadline_near events": events.filter(action="deadline_near").count(),
        "overdue events": events.filter(action="overdue").count(),
        "escalated events": events.filter(action="escalated").count(),
        "doubled alerts": alerts.values("stage_id", "kind", "level").annotate(n=Count("id")).filter(n__gt=1).count(),
        "doubled events": events.filter(action__in=["deadline_near", "overdue", "escalated"])
        .values("order_id", "action").annotate(n=Count("id")).filter(n__gt=1).count(),
        "notifications": Notification.objects.filter(order_id__in=orders).count(),
        "doubled notifications": Notification.objects.filter(order_id__in=orders)
        .values("recipient_id", "order_id", "kind").annotate(n=Count("id")).filter(n__gt=1).count(),
    }


def sweep_consistent(figures: dict) -> bool:
    return (figures["warning alerts"] == figures["deadline_near events"] == figures["warned"]
            and figures["overdue alerts"] == figures["overdue events"] == figures["breached"]
            and figures["doubled alerts"] == figures["doubled events"] == figures["doubled notifications"] == 0)


def wait_for(condition, timeout: float, interval: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return False


def sweep_drill(args, env, tmp: Path) -> None:
    from bench.sla_sweep.run import fill
    from workflow.models import OrderStage
    from workflow.tasks import sla_sweep

    fill(argparse.Namespace(orders=args.orders, running=args.due * 2, due=args.due, customers=5000))
    from django.utils import timezone

    due_ids = list(OrderStage.objects.filter(ended_at__isnull=True, due_at__lte=timezone.now())
                   .values_list("pk", flat=True))
    print(f"\nSweep drill: {len(due_ids):,} stages past their warning point and deadline.")
    worker = start_worker(env, tmp, "sweep-1")
    sent = time.monotonic()
    sla_sweep.apply_async()
    started = wait_for(lambda: OrderStage.objects.filter(pk__in=due_ids, warned_at__isnull=False).exists(), 120)
    kill(worker)
    killed_after = time.monotonic() - sent
    partial = sweep_figures(due_ids)
    print(f"  worker killed {killed_after:.2f} s after the task was sent: {partial}")
    check("the first worker had started the sweep", started)
    check("the kill left part of the work undone", partial["breached"] < len(due_ids),
          f"{partial['warned']:,} warned, {partial['breached']:,} breached of {len(due_ids):,}")
    check("what the killed worker committed is consistent (no half batch)", sweep_consistent(partial))

    worker = start_worker(env, tmp, "sweep-2")
    try:
        sla_sweep.apply_async()  # the next beat tick
        done = wait_for(lambda: OrderStage.objects.filter(pk__in=due_ids, overdue_at__isnull=True).count() == 0
                        and not sla_sweep_pending_alerts(), 300, 0.5)
        check("the next run completed the sweep", done)
        after = sweep_figures(due_ids)
        sla_sweep.apply_async()  # and one more: must change nothing
        time.sleep(5)
        again = sweep_figures(due_ids)
    finally:
        kill(worker)
    print(f"  after the next run: {after}")
    check("every due stage warned and breached exactly once",
          after["warned"] == after["breached"] == len(due_ids) and sweep_consistent(after))
    check("one escalation per order", after["escalated events"] == len(due_ids))
    check("notifications sent for the alerts", after["notifications"] > 0, f"{after['notifications']:,}")
    check("a further run changes nothing", again == after)


def sla_sweep_pending_alerts() -> bool:
    from workflow.models import SlaAlert

    return SlaAlert.objects.filter(notified_at__isnull=True).exists()


def score_figures(month) -> dict:
    from django.db.models import Sum

    from accountability.models import ImprovementOrder, IndicatorResult, MonthlyNotice, MonthlyScore

    scores = MonthlyScore.objects.filter(month=month)
    return {
        "scores": scores.count(),
        "indicator results": IndicatorResult.objects.filter(score__month=month).count(),
        "notices": MonthlyNotice.objects.filter(month=month).count(),
        "improvement orders": ImprovementOrder.objects.filter(opened_month=month).count(),
        "total points": str(scores.aggregate(t=Sum("total"))["t"]),
    }


def remove_scores(month) -> None:
    from django.db import transaction

    from accountability.models import ImprovementOrder, MonthlyNotice, MonthlyScore

    with transaction.atomic():
        ImprovementOrder.objects.filter(opened_month=month).delete()
        MonthlyNotice.objects.filter(month=month).delete()
        MonthlyScore.objects.filter(month=month).delete()


def scoring_drill(args, env) -> None:
    from bench.monthly_scores.run import prepare_month

    month = prepare_month(orders=args.scored)
    command = [sys.executable, "manage.py", "accountability_month", "--month", f"{month:%Y-%m}"]
    started = time.monotonic()
    subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True)
    reference_s = time.monotonic() - started
    reference = score_figures(month)
    print(f"\nScoring drill, {month:%Y-%m}: a complete run takes {reference_s:.1f} s (process included) "
          f"and gives {reference}")
    remove_scores(month)
    for fraction in (0.3, 0.6, 0.9):
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   start_new_session=True)
        time.sleep(reference_s * fraction)
        alive = process.poll() is None
        if alive:
            kill(process)
        state = score_figures(month)
        complete = state == reference
        print(f"  killed at {fraction:.0%} ({'mid-run' if alive else 'had already finished'}): {state}")
        check(f"kill at {fraction:.0%} left no scores or the complete set", state["scores"] == 0 and
              state["notices"] == 0 and state["improvement orders"] == 0 or complete)
        if complete:
            remove_scores(month)
    subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True)
    final = score_figures(month)
    print(f"  the next run: {final}")
    check("the next run scored the month once, as the reference did", final == reference)
    subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True)
    check("running it again doubles nothing", score_figures(month) == reference)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--orders", type=int, default=40_000, help="open orders for the sweep")
    parser.add_argument("--due", type=int, default=6_000, help="of which with a stage past its deadline")
    parser.add_argument("--scored", type=int, default=40_000, help="closed complaints in the scored month")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    db_url = database_url("postgres://postgres@127.0.0.1:5432/complaints_bench_drill_kill")
    redis = redis_url("redis://127.0.0.1:6379/8")
    reset_database(db_url)
    flush_redis(redis)
    with tempfile.TemporaryDirectory(prefix="drill-kill-") as tmp:
        env = server_env(db_url=db_url, redis=redis, var_dir=Path(tmp))
        manage(env, "migrate", "--noinput")
        manage(env, "seed_demo", "--orders", "0", "--quiet-logins")
        django_setup(env)
        from workflow.models import WorkflowPolicy

        WorkflowPolicy.objects.update(quiet_outside_working_hours=False)
        sweep_drill(args, env, Path(tmp))
        scoring_drill(args, env)
    return verdict("Worker-kill drill")


if __name__ == "__main__":
    sys.exit(main())
