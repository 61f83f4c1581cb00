"""In Chromium: every chart of the dashboards and of the accountability ranking, fed many long Chinese names, draws
every category label (rotated or wrapped, none skipped) and tells twelve series apart by colour; the value axis
says its unit. Read from the ECharts instance of each chart, not from the page's JSON."""

import datetime

import pytest
from django.utils import timezone

from accountability import scoring
from accountability.models import Indicator
from org.models import Department
from quality.facts import open_orders_snapshot, rollups_apply
from tests.conftest import browser_login, screenshot
from tests.factories import CategoryFactory, DepartmentFactory, channel
from workflow.intake import order_create

pytestmark = pytest.mark.django_db(transaction=True)

LONG_NAMES = [
    "移动网络室内信号覆盖不足导致通话频繁中断", "家庭宽带高峰时段网速明显低于签约速率", "国际漫游流量资费与营销宣传明显不符",
    "合约套餐到期后自动续约未提前告知用户", "增值业务未经本人同意擅自订购扣费", "营业厅办理携号转网时被无理由拒绝",
    "光猫设备故障报修后上门维修严重超时", "话费账单明细与实际使用情况不一致", "5G套餐承诺覆盖区域实际无5G信号",
    "实名登记信息被他人冒用开办多张号卡", "积分兑换礼品长期未发货且客服无回应", "固话迁移装机延误超过承诺的办理时限",
    "校园卡优惠活动规则变更未及时通知学生", "宽带拆机后仍继续按月收取宽带月租费",
]

# For every chart: its category axis's label settings, the labels ECharts lays out on that axis, the colours of
# its series as drawn, and its value axis's name.
CHART_FACTS = """els => els.map(el => {
  const chart = echarts.getInstanceByDom(el);
  const option = chart.getOption();
  const horizontal = option.yAxis[0].type === 'category';
  const axisOption = horizontal ? option.yAxis[0] : option.xAxis[0];
  const valueAxis = horizontal ? option.xAxis[0] : option.yAxis[0];
  const axis = chart.getModel().getComponent(horizontal ? 'yAxis' : 'xAxis', 0).axis;
  return {
    id: el.dataset.chart, labels: axisOption.data.length, interval: axisOption.axisLabel.interval,
    hideOverlap: axisOption.axisLabel.hideOverlap, rotate: axisOption.axisLabel.rotate || 0,
    overflow: axisOption.axisLabel.overflow || '', width: axisOption.axisLabel.width || 0,
    drawn: axis.getViewLabels().length, longest: Math.max(...axisOption.data.map(s => String(s).length)),
    colours: option.series.map((s, i) => chart.getVisual({seriesIndex: i}, 'color')),
    unitName: valueAxis.name || '', tick: valueAxis.axisLabel.formatter ? valueAxis.axisLabel.formatter(50) : '',
  };
})"""


@pytest.fixture
def chinese_ui(settings):
    settings.LANGUAGE_CODE = "zh-hans"


@pytest.fixture
def long_named_world(hotline_agent, network_dept, category_tree, quality_manager, province):
    """Fourteen categories with long names, each with a few complaints today and this week; twelve back-office
    departments with long names, scored for the last two months."""
    parent = category_tree["NET-MOB"]
    now = timezone.now()
    for index, name in enumerate(LONG_NAMES):
        category = CategoryFactory(code=f"LONG-{index}", name=name, parent=parent, responsible_department=network_dept)
        for n in range(1 + index % 3):
            order_create(actor=hotline_agent, kind="complaint", channel=channel("hotline"), category=category,
                         severity="ordinary", description="测试", customer_phone=f"1397{index:03d}{n:04d}",
                         received_at=now - datetime.timedelta(hours=1 + n))
    rollups_apply()
    open_orders_snapshot()
    Department.objects.filter(kind=Department.Kind.BACK_OFFICE).update(is_active=False)
    for index in range(12):
        DepartmentFactory(code=f"long-dept-{index}", name=f"{LONG_NAMES[index][:10]}处理中心{index + 1}",
                          kind=Department.Kind.BACK_OFFICE, region=province)
    this_month = timezone.localdate().replace(day=1)
    last = (this_month - datetime.timedelta(days=1)).replace(day=1)
    before = (last - datetime.timedelta(days=1)).replace(day=1)
    for month in (before, last):
        Indicator.objects.get_or_create(year=month.year, code="attributed", defaults=dict(
            name="认责投诉量", measure="attributed", higher_is_better=False, target=5, weight=40))
        scoring.month_close(month=month)


def chart_facts(page) -> list[dict]:
    page.wait_for_function("() => [...document.querySelectorAll('[data-chart]')].every(e => e.dataset.rendered)")
    return page.eval_on_selector_all("[data-chart]", CHART_FACTS)


def assert_every_label_drawn(facts):
    for chart in facts:
        assert chart["interval"] == 0 and chart["hideOverlap"] is False, chart
        assert chart["drawn"] == chart["labels"], chart  # ECharts laid out every label, skipping none
        if chart["longest"] >= 12:  # a long name is rotated or wrapped within a set width
            assert chart["rotate"] or (chart["overflow"] == "break" and chart["width"] > 0), chart


def test_every_chart_draws_every_long_category_label(chinese_ui, long_named_world, browser_page):
    page = browser_page
    browser_login(page, "quality")
    base = page.base_url

    page.goto(f"{base}/dashboard/kpis/?group=category3&chart=volume")
    facts = chart_facts(page)
    assert facts[0]["labels"] >= 14 and facts[0]["rotate"] in (45, 90), facts
    assert facts[0]["unitName"] == "件"
    assert_every_label_drawn(facts)
    screenshot(page, "chart-long-categories-bar")

    page.goto(f"{base}/dashboard/kpis/?group=category3&chart=timeliness")
    facts = chart_facts(page)
    assert facts[0]["tick"] == "50%"
    assert_every_label_drawn(facts)

    page.goto(f"{base}/dashboard/")
    facts = chart_facts(page)
    by_id = {f["id"]: f for f in facts}
    assert by_id["top-categories-data"]["labels"] == 10 and by_id["top-categories-data"]["overflow"] == "break"
    assert by_id["open-orders-data"]["unitName"] == "件"
    assert_every_label_drawn(facts)
    screenshot(page, "chart-long-categories-overview")

    page.goto(f"{base}/dashboard/department/")
    assert_every_label_drawn(chart_facts(page))


def test_twelve_departments_are_twelve_colours(chinese_ui, long_named_world, browser_page):
    page = browser_page
    browser_login(page, "quality")
    page.goto(f"{page.base_url}/accountability/ranking/")
    facts = chart_facts(page)
    trend = next(f for f in facts if f["id"] == "indicator-trend-data")
    assert len(trend["colours"]) == 12
    assert len(set(trend["colours"])) == 12, trend["colours"]
    assert trend["unitName"] == "件"
    assert_every_label_drawn(facts)
    screenshot(page, "chart-twelve-departments")
