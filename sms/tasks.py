"""Celery entry points: send what is due; the sweep decides receipts and closes claims whose sender died."""

from celery import shared_task

from sms import services


@shared_task(ignore_result=True)
def sms_send() -> dict:
    return services.messages_send_due()


@shared_task(ignore_result=True)
def sms_sweep() -> dict:
    return {"receipts": services.receipts_compose(), "stale": services.messages_sweep_stale()}
