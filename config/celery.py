import os
from pathlib import Path

from celery import Celery
from celery.signals import beat_init, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("complaints_platform")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
def _log_context(sender=None, task_id=None, task=None, **kwargs):
    from core.logs import celery_task_context

    celery_task_context(sender=sender, task_id=task_id, task=task)


@app.on_after_configure.connect
def _make_filesystem_broker_folders(sender, **kwargs):
    """The zero-setup broker keeps its messages in folders under var/; kombu expects them to exist."""
    if str(sender.conf.broker_url).startswith("filesystem://"):
        for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
            folder = (sender.conf.broker_transport_options or {}).get(key)
            if folder:
                Path(folder).mkdir(parents=True, exist_ok=True)


@beat_init.connect
def _first_heartbeat(sender=None, **kwargs):
    """Beat's first heartbeat goes out as it starts (the schedule's first would come a full interval later), so
    `/healthz` turns ok as soon as beat, the broker, a worker and the database have carried one message through."""
    try:
        app.send_task("workflow.tasks.heartbeat")
    except Exception:  # noqa: BLE001 - the broker is down: the schedule's heartbeat tells /healthz soon enough
        pass
