"""Background jobs end to end with the real parts: pages start them, a Celery worker on Redis runs them against the
test database, the pages show their progress and outcome (the historical import, item 4 of issue 14; the
accountability month close, item 21)."""

import datetime
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from jobs.models import Job
from tests.processes import child_env

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.django_db(transaction=True)
MAPPING = ('{"source": "old-crm", "columns": {"external_ref": "工单号", "received_at": "受理时间", "customer_phone": '
           '"手机号码", "category": "投诉分类", "description": "投诉内容", "answer": "处理结果", "closed_at": "归档时间"}, '
           '"date_format": "%Y/%m/%d %H:%M", "defaults": {"kind": "complaint", "channel": "hotline"}}')


@pytest.fixture
def worker(tmp_path):
    env = child_env(VAR_DIR=str(tmp_path), MEDIA_ROOT=str(settings.MEDIA_ROOT))
    log = tmp_path / "worker.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel=INFO", "--concurrency=1",
         "--pool=solo", "-n", f"jobs-test-{os.getpid()}@%h"],
        cwd=ROOT, env=env, stdout=open(log, "w"), stderr=subprocess.STDOUT, start_new_session=True,
    )
    proc.log = log
    try:
        yield proc
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def wait_for(job: Job, worker, seconds: float = 90) -> Job:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.is_finished:
            return job
        assert worker.poll() is None, worker.log.read_text()[-3000:]
        time.sleep(0.5)
    pytest.fail(f"job {job.pk} still {job.status} after {seconds} s:\n" + worker.log.read_text()[-3000:])


def last_month_csv() -> bytes:
    first = (timezone.localdate().replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    lines = ["工单号,受理时间,手机号码,投诉分类,投诉内容,处理结果,归档时间"]
    for n, phone in enumerate(["13800138000", "13800138001", "13800138002"], start=1):
        lines.append(f"CRM-{n},{first:%Y/%m}/0{n} 09:00,{phone},BIL-DSP,话费多扣,已退费,{first:%Y/%m}/0{n} 18:00")
    lines.append(f"CRM-9,{first:%Y/%m}/05 09:00,12345,BIL-DSP,号码不对,,")
    return ("\n".join(lines) + "\n").encode("utf-8")


def test_the_import_and_the_month_close_run_in_a_real_worker(client, worker, channel_system, province_dispatcher,
                                                             category_tree):
    from accountability.models import Indicator, MonthlyScore
    from complaints.models import WorkOrder

    assert settings.CELERY_BROKER_URL.startswith("redis://")
    client.force_login(channel_system)
    response = client.post(reverse("complaints:import"), {
        "csv_file": SimpleUploadedFile("crm.csv", last_month_csv(), "text/csv"), "mapping_text": MAPPING})
    assert response.status_code == 302, response.content.decode()[-2000:]
    job = Job.objects.get(kind=Job.Kind.IMPORT_ORDERS)
    client.post(reverse("complaints:import_start", args=[job.pk]))  # dispatched to the broker at the commit

    job = wait_for(job, worker)
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert job.result["created"] == 3 and job.result["rejected"] == 1
    assert WorkOrder.objects.filter(external_source="old-crm", status="closed").count() == 3
    fragment = client.get(reverse("jobs:progress", args=[job.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert 'value="100"' in fragment and "every 1s" not in fragment  # finished: the page stops polling
    assert "created: 3; already imported: 0; rejected: 1" in fragment
    report = b"".join(client.get(reverse("jobs:output", args=[job.pk])).streaming_content).decode("utf-8-sig")
    assert "CRM-9" in report and "customer_phone" in report

    # Beat counts the imported orders into the KPI facts (the trigger queued them) ...
    from quality.facts import rollups_apply

    rollups_apply()
    # ... and the month those complaints closed in is closed from the ranking page in the background.
    month = (timezone.localdate().replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    Indicator.objects.create(year=month.year, code="attributed", name="认责投诉量", measure="attributed",
                             higher_is_better=False, target=2, weight=40)
    client.force_login(province_dispatcher)
    response = client.post(reverse("accountability:ranking_compute"), {"month": f"{month:%Y-%m}"})
    assert response.status_code == 302
    close = Job.objects.get(kind=Job.Kind.ACCOUNTABILITY_MONTH)
    page = client.get(response["Location"]).content.decode()
    assert f'id="job-{close.pk}"' in page  # the ranking page shows the close's progress
    close = wait_for(close, worker)
    assert close.status == Job.Status.SUCCEEDED, close.error
    billing = MonthlyScore.objects.get(month=month, department__code="billing")
    assert billing.attributed == 3
    page = client.get(response["Location"]).content.decode()
    assert f"Scored {month:%Y-%m}" in page and "every 1s" not in page
