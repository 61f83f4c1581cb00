"""Background jobs (jobs app) as the import page and the accountability month close use them; the real worker is
in tests/test_celery_jobs.py."""

import datetime
import json
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from complaints.models import WorkOrder
from jobs.models import Job
from jobs.services import job_queue, job_run, jobs_redispatch
from workflow.order_import import order_import_prepare

DATA = Path(__file__).parent / "data"
SHANGHAI = timezone.get_fixed_timezone(8 * 60)
NOW = datetime.datetime(2026, 11, 1, 12, 0, tzinfo=SHANGHAI)


def legacy_upload():
    return SimpleUploadedFile("legacy_export.csv", (DATA / "legacy_export.csv").read_bytes(), "text/csv")


def legacy_mapping():
    return json.loads((DATA / "legacy_mapping.json").read_text(encoding="utf-8"))


def prepared(actor) -> Job:
    return order_import_prepare(actor=actor, csv_upload=legacy_upload(), mapping_data=legacy_mapping(),
                                mapping_name="legacy_mapping")


@time_machine.travel(NOW, tick=False)
def test_a_job_runs_once_whatever_the_broker_redelivers(channel_system, category_tree):
    job = prepared(channel_system)
    assert job.status == Job.Status.DRAFT and WorkOrder.objects.count() == 0  # a draft imports nothing
    job_queue(actor=channel_system, job=job)
    assert job_run(job_id=job.pk) == "succeeded"
    assert job_run(job_id=job.pk) == "not claimed"  # a second delivery of the same message does nothing
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED and job.attempts == 1
    assert (job.done, job.total) == (8, 8)
    assert job.result == {"source": "legacy_mapping", "read": 8, "created": 3, "already_imported": 0, "rejected": 5}
    assert WorkOrder.objects.count() == 3
    report = job.output_file.read().decode("utf-8-sig")
    assert report.startswith("line,external_ref,reasons,工单号") and "OLD-0004" in report


@time_machine.travel(NOW, tick=False)
def test_a_job_whose_worker_died_starts_again_and_skips_what_was_committed(channel_system, category_tree):
    job = prepared(channel_system)
    job_queue(actor=channel_system, job=job)
    job_run(job_id=job.pk)
    # As if the worker had died after its commits: still "running", no progress for longer than the stale limit.
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING, heartbeat_at=timezone.now() - timedelta(minutes=6))
    assert jobs_redispatch() == 1  # beat sends it again; the worker that takes it claims it by compare-and-set
    assert job_run(job_id=job.pk) == "succeeded"
    job.refresh_from_db()
    assert job.attempts == 2 and job.result["created"] == 0 and job.result["already_imported"] == 3
    assert WorkOrder.objects.count() == 3


def test_only_its_creator_starts_a_draft_once(channel_system, province_dispatcher, category_tree):
    job = prepared(channel_system)
    with pytest.raises(PermissionDenied):
        job_queue(actor=province_dispatcher, job=job)
    job_queue(actor=channel_system, job=job)
    with pytest.raises(ValidationError, match="already started"):
        job_queue(actor=channel_system, job=job)


def test_a_file_or_mapping_that_cannot_work_makes_no_job(channel_system, category_tree):
    bad = legacy_mapping()
    bad["columns"]["contact_phone"] = "联系电话"
    with pytest.raises(ValidationError, match="no column named: 联系电话"):
        order_import_prepare(actor=channel_system, csv_upload=legacy_upload(), mapping_data=bad, mapping_name="m")
    gbk = SimpleUploadedFile("gbk.csv", (DATA / "legacy_export.csv").read_text(encoding="utf-8").encode("gb18030"))
    with pytest.raises(ValidationError, match="gb18030"):
        order_import_prepare(actor=channel_system, csv_upload=gbk, mapping_data=legacy_mapping(), mapping_name="m")
    assert not Job.objects.exists()


# --- the import page ---


def test_the_import_page_refuses_the_wrong_user(client, channel_system, billing_handler, quality_manager,
                                                hotline_agent, category_tree):
    url = reverse("complaints:import")
    assert client.get(url).status_code == 302  # anonymous: to the login page
    for user in (billing_handler, quality_manager):
        client.force_login(user)
        assert client.get(url).status_code == 403
        assert client.post(url, {"csv_file": legacy_upload(), "mapping_text": "{}"}).status_code == 403
    assert not Job.objects.exists()

    job = prepared(channel_system)
    client.force_login(hotline_agent)  # may import, but this is someone else's import (its rows carry customers)
    assert client.get(reverse("complaints:import_detail", args=[job.pk])).status_code == 403
    assert client.post(reverse("complaints:import_start", args=[job.pk])).status_code == 403
    assert client.get(reverse("jobs:progress", args=[job.pk])).status_code == 403
    assert client.get(reverse("jobs:output", args=[job.pk])).status_code == 403
    job.refresh_from_db()
    assert job.status == Job.Status.DRAFT


@time_machine.travel(NOW, tick=False)
def test_the_import_page_shows_a_dry_run_then_starts_the_job(client, channel_system, category_tree, tmp_path):
    client.force_login(channel_system)
    mapping = tmp_path / "legacy_mapping.json"
    shutil.copy(DATA / "legacy_mapping.json", mapping)
    response = client.post(reverse("complaints:import"), {
        "csv_file": legacy_upload(),
        "mapping_file": SimpleUploadedFile("legacy_mapping.json", mapping.read_bytes(), "application/json")})
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("complaints:import_detail", args=[job.pk])
    page = client.get(response["Location"]).content.decode()
    assert "Dry run of the first rows" in page
    assert "New, closed" in page and "NET-MOB-COV" in page and "2026-10-01 09:15" in page
    assert "New, open" in page
    assert "Unknown channel “信鸽”" in page and "“昨天” matches none of the date formats" in page
    assert WorkOrder.objects.count() == 0  # a dry run writes nothing

    response = client.post(reverse("complaints:import_start", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == Job.Status.QUEUED
    page = client.get(reverse("complaints:import_detail", args=[job.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in page  # the progress fragment polls while the job waits or runs


def test_a_pasted_mapping_must_name_its_source_and_be_json(client, channel_system, category_tree):
    client.force_login(channel_system)
    response = client.post(reverse("complaints:import"), {"csv_file": legacy_upload(), "mapping_text": "{oops"})
    assert response.status_code == 400 and "not valid JSON" in response.content.decode()
    response = client.post(reverse("complaints:import"), {"csv_file": legacy_upload(),
                                                          "mapping_text": json.dumps(legacy_mapping())})
    assert response.status_code == 400 and "Name the source system" in response.content.decode()
    assert not Job.objects.exists()


# --- the accountability month close ---


def test_one_close_of_a_month_at_a_time(province_dispatcher, hotline_agent):
    from accountability.models import Indicator
    from accountability.services import month_close_start

    Indicator.objects.create(year=2026, code="attributed", name="认责投诉量", measure="attributed",
                             higher_is_better=False, target=2, weight=40)
    with time_machine.travel(NOW, tick=False):
        with pytest.raises(PermissionDenied):
            month_close_start(actor=hotline_agent, month=datetime.date(2026, 10, 1))
        job = month_close_start(actor=province_dispatcher, month=datetime.date(2026, 10, 1))
        assert job.status == Job.Status.QUEUED and job.key == "2026-10"
        with pytest.raises(ValidationError, match="already running"):
            month_close_start(actor=province_dispatcher, month=datetime.date(2026, 10, 1))
        with pytest.raises(ValidationError, match="has ended"):
            month_close_start(actor=province_dispatcher, month=datetime.date(2026, 11, 1))
        assert job_run(job_id=job.pk) == "succeeded"
        job.refresh_from_db()
        assert job.result["month"] == "2026-10" and job.done == job.total == 2
        month_close_start(actor=province_dispatcher, month=datetime.date(2026, 10, 1))  # again, once it is done


@time_machine.travel(NOW, tick=False)
def test_a_failed_import_is_started_again_by_its_creator(client, channel_system, category_tree):
    job = prepared(channel_system)
    job_queue(actor=channel_system, job=job)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.FAILED, error="boom", attempts=3)
    client.force_login(channel_system)
    assert "Start again" in client.get(reverse("complaints:import_detail", args=[job.pk])).content.decode()
    client.post(reverse("complaints:import_start", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == Job.Status.QUEUED and job.attempts == 0 and job.error == ""
    assert job_run(job_id=job.pk) == "succeeded"
    with pytest.raises(ValidationError, match="already started"):
        job_queue(actor=channel_system, job=job)  # a finished job is not run twice
