"""The one personal-data check: what a complaint's free text may not carry once it leaves the working screens.

Order pages show an order's text to the people who work on it (phone numbers in it follow the phone rule of
complaints/phone.py). Everything that leaves those screens — a case in the case library, the monthly report (HTML
and PDF), a CSV or Excel export, a notification e-mail — passes through `redact` here, and the case library refuses
a text in which `personal_data` still finds something. Kept low in the layers (complaints/) so that knowledge/,
workflow/ and reports/ all import the same function.

It looks for what agents really type: names after a form of address (张先生, 王女士) or after 客户/用户/机主/联系人,
姓X; mobile numbers however grouped (138 0013 8000, 138-0013-8000, +86, 0086, full-width digits); landlines with
their area code, or after 电话/座机; 18-digit ID numbers (X last, with or without spaces), 15-digit ones after
身份证; bank card numbers (16–19 digits, in groups of four too); e-mail addresses; WeChat and QQ accounts; street
addresses down to the number or the flat. It also takes out the order's own customer's name and numbers however
they are written, which no pattern could know.
"""

from __future__ import annotations

import re
import unicodedata

_SEP = r"[\s\-－—–]{0,2}"  # a space, or a dash of any keyboard (—— too)
_HAN = r"\u4e00-\u9fff"
# Common surnames, without the ones that are everyday words after 客户 (于 向 曾 付 方 万 任 余 金: 客户于本月, 客户方面,
# 客户余额); a name after a form of address (王女士) is caught whatever its surname.
_SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭肖田董袁潘蒋蔡杜叶程苏魏吕丁沈姚卢姜崔"
             "钟谭陆汪范石廖贾夏韦白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵钱严覃武戴莫孔汤")
_COMPOUND = "欧阳|司马|诸葛|上官|东方|皇甫|尉迟|公孙|慕容|令狐|司徒|夏侯|长孙|宇文"
_SURNAME = rf"(?:{_COMPOUND}|[{_SURNAMES}])"
# Words after 客户 that begin with a surname but are not a name.
_NOT_NAMES = "马上|高度|高兴|高峰|江湖|程序|史上|毛病|孔雀|龙头|黄金|白白|段时间"
# What follows a name in an agent's sentence (张伟来电, 李小明称, 刘洋，…).
_AFTER_NAME = (r"来电|致电|反映|反馈|称|表示|投诉|到厅|前来|要求|说|讲|的|先生|女士|小姐|电话|手机|号码|身份证|证件|"
               r"办理|因|对|咨询|再次|多次|今天|昨天|今日|昨日|从|家|于|在|已|也|又|[，,。；;、！!？?\s（(：:]|$")

PATTERNS = [
    # Mobile numbers, optionally +86, written with spaces or dashes (138 0013 8000, 138-0013-8000).
    ("phone", re.compile(rf"(?<!\d)(?:(?:\+|00)?86{_SEP})?1[3-9]\d{_SEP}\d{{4}}{_SEP}\d{{4}}(?!\d)")),
    # Landlines: 020-12345678, (0755)1234567, （0755）1234 5678, 0755 1234 5678.
    ("phone", re.compile(r"(?<!\d)(?:[(（]0\d{2,3}[)）]|0\d{2,3})[\s\-－]?\d{3,4}[\s\-－]?\d{4}(?!\d)")),
    # A number after the word for it, without an area code: 座机87654321.
    ("phone", re.compile(r"(?:电话|座机|固话|手机|回拨|回电|联系方式)(?:号码|号)?[是为：:\s]*(?P<v>\d{7,8})(?!\d)")),
    # Resident identity card numbers (18 characters, the last may be X; grouped 6-8-4 with spaces too); the old
    # 15-digit ones only after the word.
    ("id_number", re.compile(r"(?<![0-9A-Za-z])\d{6}(?:[\s\-]?)\d{8}(?:[\s\-]?)\d{3}[\dXx](?![0-9A-Za-z])")),
    ("id_number", re.compile(r"(?:身份证|证件)(?:号码|号)?[是为：:\s]*(?P<v>\d{15})(?!\d)")),
    # Bank card numbers: 16 to 19 digits, or in groups of four.
    ("card_number", re.compile(r"(?<!\d)\d{16,19}(?!\d)")),
    ("card_number", re.compile(r"(?<!\d)\d{4}(?:[\s\-]\d{4}){3}(?:[\s\-]?\d{1,3})?(?!\d)")),
    # E-mail addresses, typed in full-width letters too (ｚｗ＠ｑｑ．ｃｏｍ).
    ("email", re.compile(r"[A-Za-z0-9._%+\-Ａ-Ｚａ-ｚ０-９．＿－]+[@＠][A-Za-z0-9.\-Ａ-Ｚａ-ｚ０-９．－]+[.．][A-Za-zＡ-Ｚａ-ｚ]{2,}")),
    ("account", re.compile(r"(?:微信|QQ|qq)(?:号码|号)?[是为：:\s]*(?P<v>[A-Za-z0-9_\-]{5,20})")),
    # A name with a form of address: 张先生, 王女士, 张伟先生, 欧阳娜娜女士.
    ("name", re.compile(rf"(?:{_SURNAME}[{_HAN}]{{0,2}}?|[{_HAN}])(?:先生|女士|小姐|阿姨|大爷|老师)")),
    # A name after the word for the customer: 客户张伟来电, 机主陈静表示, 联系人：刘洋，.
    ("name", re.compile(rf"(?:客户|用户|机主|户主|联系人|投诉人|来电人|申诉人|当事人)(?:[：:]\s*|\s+|名叫|叫)?"
                        rf"(?!{_NOT_NAMES})(?P<v>{_SURNAME}[{_HAN}]{{1,2}}?)(?={_AFTER_NAME})")),
    # 客户姓黄, 姓王的客户.
    ("name", re.compile(rf"姓(?P<v>{_SURNAME})")),
    # Street addresses down to the number or room: 天河路385号, 3栋1202房, 5号楼2单元301室.
    ("address", re.compile(r"[\u4e00-\u9fff\d]{1,12}(?:路|街|道|巷|大道)\d+号|\d+(?:栋|幢|座)\d+(?:室|房|号)?"
                           r"|\d+号楼(?:\d+单元)?(?:\d+(?:室|房|号)?)?|\d+单元\d+(?:室|房|号)?")),
]
REPLACEMENTS = {"phone": "[电话]", "id_number": "[证件号]", "card_number": "[卡号]", "email": "[邮箱]",
                "account": "[账号]", "name": "客户", "address": "[地址]"}
# A name taken out of a sentence that already says 客户 (客户张伟来电 → 客户[姓名]来电), or after 姓.
_NAME_IN_PLACE = {"姓": "某"}


_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
# A run of digits with whatever people put between them (138.0013.8000, 1380 013 8000, 13800 138000, and the dashes
# of a Chinese keyboard: 138—0013—8000, 138——0013——8000, 138–0013–8000).
_DIGIT_RUN = re.compile(r"\+?\d[\d\s.\-－·—–]{6,}\d")
_MOBILE_DIGITS = re.compile(r"(?:0086|86)?1[3-9]\d{9}")


def normalise(text: str) -> str:
    """Full-width letters and digits to half-width, lower case."""
    return unicodedata.normalize("NFKC", text or "").lower()


def _digits(value: str) -> str:
    return re.sub(r"\D", "", (value or "").translate(_FULL_WIDTH_DIGITS))


def _phone_runs(text: str, known: list[str]):
    """Runs of digits that are a mobile number, or contain one of the order's own numbers, however grouped."""
    for match in _DIGIT_RUN.finditer(text):
        digits = _digits(match.group(0))
        if _MOBILE_DIGITS.fullmatch(digits) or any(k and len(k) >= 7 and k in digits for k in known):
            yield match


def _known_values(order) -> list[tuple[str, str]]:
    """The order's own personal data, which a pattern could miss (a name without 先生, a short contact)."""
    values = []
    if order is None:
        return values
    customer = getattr(order, "customer", None)
    if customer is not None:
        if customer.name and len(customer.name.strip()) >= 2:
            values.append(("name", customer.name.strip()))
        if customer.phone:
            values.append(("phone", customer.phone))
    if getattr(order, "contact_phone", ""):
        values.append(("phone", order.contact_phone))
    return values


def _replacement(kind: str, match: re.Match) -> str:
    """The placeholder for what a pattern found; a pattern with a group `v` keeps the words around it."""
    if "v" not in match.re.groupindex:
        return REPLACEMENTS[kind]
    start, end = match.span("v")
    whole = match.group(0)
    offset = match.start()
    lead, tail = whole[:start - offset], whole[end - offset:]
    if kind == "name":
        return lead + (_NAME_IN_PLACE.get(lead, "[姓名]")) + tail
    return lead + REPLACEMENTS[kind] + tail


# Every pattern needs one of these; a text without any is returned as it is (an export writes many short cells).
_MAYBE = re.compile(r"[\d０-９@＠]|微信|[Qq]{2}|先生|女士|小姐|阿姨|大爷|老师|客户|用户|机主|户主|联系人|投诉人|来电人|申诉人|"
                    r"当事人|姓")


def redact(text: str, *, order=None) -> str:
    """The text with personal data replaced by placeholders ([电话], [证件号], 客户 …). `order`: the order the text
    belongs to, whose customer's name and numbers are taken out however they are written."""
    if order is None and not _MAYBE.search(text or ""):
        return text or ""
    text = (text or "").translate(_FULL_WIDTH_DIGITS)
    known = _known_values(order)
    for match in reversed(list(_phone_runs(text, [_digits(v) for k, v in known if k == "phone"]))):
        text = text[:match.start()] + REPLACEMENTS["phone"] + text[match.end():]
    for kind, value in known:
        text = text.replace(value, REPLACEMENTS[kind])
        if kind == "name":
            text = text.replace(value[0] + "某", "客户")
    for kind, pattern in PATTERNS:
        text = pattern.sub(lambda m, kind=kind: _replacement(kind, m), text)
    return text


def personal_data(text: str, *, order=None) -> list[tuple[str, str]]:
    """What in the text looks like personal data: (kind, the text found). Empty when it is clean."""
    found = []
    original = text or ""
    text = normalise(original).translate(_FULL_WIDTH_DIGITS)  # full-width digits and letters as well
    known = _known_values(order)
    for kind, value in known:
        if normalise(value) in text:
            found.append((kind, value))
    found.extend(("phone", match.group(0).strip())
                 for match in _phone_runs(text, [_digits(v) for k, v in known if k == "phone"]))
    for kind, pattern in PATTERNS:
        found.extend((kind, match.group("v") if "v" in pattern.groupindex else match.group(0))
                     for match in pattern.finditer(text))
    return found


def redact_name(name: str) -> str:
    """A customer's name as an export outside the working screens shows it: the surname only (张**)."""
    name = (name or "").strip()
    if not name:
        return ""
    return name[0] + "*" * max(len(name) - 1, 1)
