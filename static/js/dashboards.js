// Renders every chart of a dashboard page with ECharts (served locally). A chart's data comes from the JSON block
// named by its data-chart attribute: {type: line|bar|hbar|stacked, x: [...], series: [{name, data, links}], unit,
// markX}. Clicking a bar or a point opens the orders behind it.
(function () {
  "use strict";
  var FONT = '"Noto Sans CJK SC", "Noto Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif';
  var PALETTE = ["#0b5cad", "#dd6b20", "#2f855a", "#805ad5", "#c53030", "#319795", "#d69e2e", "#718096"];

  function unitSuffix(unit) {
    if (unit === "%") { return "%"; }
    return unit ? " " + unit : "";
  }

  function render(element) {
    var block = document.getElementById(element.getAttribute("data-chart"));
    if (!block || typeof echarts === "undefined") { return; }
    var spec = JSON.parse(block.textContent);
    var horizontal = spec.type === "hbar";
    var stacked = spec.type === "stacked";
    var labels = horizontal ? spec.x.slice().reverse() : spec.x;
    var series = spec.series.map(function (s, index) {
      var data = horizontal ? s.data.slice().reverse() : s.data;
      var item = {
        name: s.name, type: spec.type === "line" ? "line" : "bar", data: data,
        stack: stacked ? "all" : undefined, connectNulls: false, symbolSize: 6,
        emphasis: {focus: "series"}, cursor: s.links ? "pointer" : "default"
      };
      if (s.color) { item.itemStyle = {color: s.color}; }
      if (s.dashed) { item.lineStyle = {type: "dashed"}; }
      if (index === 0 && spec.markX) {
        item.markLine = {symbol: "none", silent: true, lineStyle: {color: "#c53030", type: "solid"},
          label: {formatter: element.getAttribute("data-mark-label") || "", position: "insideEndTop"},
          data: [{xAxis: spec.markX}]};
      }
      return item;
    });
    var categoryAxis = {type: "category", data: labels, axisLabel: {fontFamily: FONT, hideOverlap: true}};
    var valueAxis = {type: "value", axisLabel: {fontFamily: FONT, formatter: function (v) {
      return v + unitSuffix(spec.unit);
    }}};
    if (spec.unit === "%") { valueAxis.max = function (range) { return Math.min(100, Math.ceil(range.max / 10) * 10); }; }
    var chart = echarts.init(element, null, {renderer: "canvas"});
    chart.setOption({
      color: PALETTE,
      textStyle: {fontFamily: FONT},
      animation: false,
      tooltip: {trigger: "axis", valueFormatter: function (v) {
        return v === null || v === undefined ? "—" : v + unitSuffix(spec.unit);
      }},
      legend: {top: 0, textStyle: {fontFamily: FONT}},
      grid: {left: 10, right: 24, top: 40, bottom: 8, containLabel: true},
      xAxis: horizontal ? valueAxis : categoryAxis,
      yAxis: horizontal ? categoryAxis : valueAxis,
      series: series
    });
    chart.on("click", function (params) {
      var s = spec.series[params.seriesIndex];
      var index = horizontal ? spec.x.length - 1 - params.dataIndex : params.dataIndex;
      if (s && s.links && s.links[index]) { window.location.href = s.links[index]; }
    });
    element.setAttribute("data-rendered", String(spec.series.reduce(function (n, s) {
      return n + s.data.filter(function (v) { return v !== null && v !== 0; }).length;
    }, 0)));
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-chart]"), render);
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
