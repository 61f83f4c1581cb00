"""The SMS policy in force from the start, and a Chinese template for each kind of message (every channel)."""

from datetime import date, time

from django.db import migrations

TEMPLATES = {
    "receipt": "您的投诉已受理，工单号{number}，我们将于{promised_at}前答复您。查询进度：{track_url} 回复TD退订",
    "on_spot": "您反映的问题已当场处理完毕（工单号{number}），感谢您的理解与支持。回复TD退订",
    "promise": "您的投诉（工单号{number}）因{reason}，答复时间调整为{promised_at}前。查询进度：{track_url}",
    "answered": "您的投诉（工单号{number}）已处理完毕，我们已通过{reply_method}向您答复，处理结果：{result}。详情请查询："
                "{track_url}",
    "survey": "请您对本次投诉处理进行评价，回复数字：1非常满意，2满意，3一般，4不满意，5非常不满意。感谢您的支持！",
    "thanks": "感谢您的评价，我们将继续努力为您提供更好的服务。",
    "thanks_dissatisfied": "感谢您的评价，很抱歉未能让您满意，我们将重新处理您的问题并尽快与您联系。",
}


def seed(apps, schema_editor):
    SmsPolicy = apps.get_model("sms", "SmsPolicy")
    SmsTemplate = apps.get_model("sms", "SmsTemplate")
    if not SmsPolicy.objects.exists():
        SmsPolicy.objects.create(effective_from=date(2020, 1, 1), quiet_from=time(22), quiet_until=time(8))
    for kind, body in TEMPLATES.items():
        SmsTemplate.objects.get_or_create(kind=kind, channel=None, defaults={"body": body})


class Migration(migrations.Migration):
    dependencies = [("sms", "0001_customer_sms")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
