"""The one personal-data check: what agents really type into a complaint (names, mobile numbers however grouped,
landlines, ID and bank card numbers, e-mail and street addresses) is found and taken out before any text leaves
the working screens — the case library, the monthly report, exports and e-mails all call it."""

import pytest

from complaints.redaction import personal_data, redact

# (what an agent typed, what must not survive)
TYPED = [
    ("张伟先生来电反映家中无信号", "张伟"),
    ("客户王女士称被多扣费", "王女士"),
    ("客户张伟来电反映宽带断网三天", "张伟"),
    ("用户李小明称套餐被更改", "李小明"),
    ("机主陈静表示从未办理该业务", "陈静"),
    ("联系人：刘洋，要求今天回电", "刘洋"),
    ("客户姓黄，要求书面答复", "姓黄"),
    ("回电13800138000", "13800138000"),
    ("手机 138 0013 8000 可联系", "0013"),
    ("手机138-0013-8000", "0013"),
    ("电话+86 138 0013 8000", "0013"),
    ("电话0086-13800138000", "13800138000"),
    ("号码１３８００１３８０００", "１３８００１３８０００"),
    ("座机020-87654321", "87654321"),
    ("座机（0755）8765 4321", "8765"),
    ("家里电话 020 8765 4321", "8765"),
    ("身份证号44010619900101123X", "44010619900101123X"),
    ("身份证 440106 19900101 123x", "19900101"),
    ("银行卡6222021234567890123被扣款", "6222021234567890123"),
    ("卡号 6222 0212 3456 7890 123", "3456"),
    ("邮箱zw@qq.com", "zw@qq.com"),
    ("住天河路385号", "天河路385号"),
    ("住3栋1202房", "1202"),
    ("住5号楼2单元301室", "301"),
    ("微信号 zhangwei_1990 联系", "zhangwei_1990"),
]


@pytest.mark.parametrize(("text", "secret"), TYPED)
def test_what_agents_type_is_found_and_taken_out(text, secret):
    assert personal_data(text), text
    redacted = redact(text)
    assert secret not in redacted, redacted
    assert personal_data(redacted) == [], redacted


def test_a_whole_complaint_as_an_agent_writes_it():
    text = ("客户张伟先生（身份证440106199001011234）来电反映：手机138 0013 8000自11月起每月被扣10元彩铃费，"
            "从未订购；家住天河路385号，座机020-87654321，要求退费并书面答复，邮箱 zw@qq.com。")
    redacted = redact(text)
    for secret in ("张伟", "440106199001011234", "138 0013 8000", "天河路385号", "87654321", "zw@qq.com"):
        assert secret not in redacted
    # the complaint itself is still readable
    for kept in ("来电反映", "每月被扣10元彩铃费", "从未订购", "要求退费并书面答复"):
        assert kept in redacted
    assert personal_data(redacted) == []


@pytest.mark.parametrize("text", [
    "拨打10086无人接听，5G套餐每月128元，流量超出20GB，3天后仍未恢复。",
    "客户反映自十月下旬起家中信号持续很差，客户情绪激动，表示将向工信部申诉。",
    "客户于本月3日办理携号转网，客户方面要求尽快处理，客户曾多次来电。",
    "工单TS202611230000123已回复，2026-11-23 10:00回访满意。",
    "用户使用5G套餐，每月费用128元，要求说明计费依据。",
])
def test_ordinary_complaint_text_is_left_alone(text):
    assert personal_data(text) == []
    assert redact(text) == text


def test_the_orders_own_customer_is_taken_out_even_without_a_form_of_address():
    class Customer:
        name, phone = "欧阳娜娜", "13900001111"

    class Order:
        customer, contact_phone = Customer(), "020-87654321"

    text = "欧阳娜娜来电，欧阳某称回拨1390000 1111或020-87654321均可"
    assert personal_data(text, order=Order())
    redacted = redact(text, order=Order())
    assert "欧阳娜娜" not in redacted and "1111" not in redacted and "87654321" not in redacted


def test_the_knowledge_base_uses_the_same_check():
    from knowledge import text

    assert text.anonymise is redact and text.personal_data is personal_data
