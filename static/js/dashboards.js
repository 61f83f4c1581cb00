// Renders every chart of a dashboard page with ECharts (served locally). A chart's data comes from the JSON block
// named by its data-chart attribute: {type: line|bar|hbar|stacked, x: [...], series: [{name, data, links}], unit,
// markX}. Clicking a bar or a point opens the orders behind it.
(function () {
  "use strict";
  var FONT = '"Noto Sans CJK SC", "Noto Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif';
  // Twelve colours told apart at a glance (a department trend has up to twelve lines): ECharts repeats the
  // palette beyond its length, so it must be at least as long as the longest series list.
  var PALETTE = ["#0b5cad", "#dd6b20", "#2f855a", "#805ad5", "#c53030", "#319795", "#d69e2e", "#d53f8c",
    "#4a5568", "#63b3ed", "#68d391", "#744210"];
  var LABEL_FONT_SIZE = 12;
  var measurer = null;

  function textWidth(text) {
    if (!measurer) { measurer = document.createElement("canvas").getContext("2d"); }
    measurer.font = LABEL_FONT_SIZE + "px " + FONT;
    return measurer.measureText(String(text)).width;
  }

  // Every category label is drawn (interval 0, never hidden for overlap): a horizontal bar chart wraps long
  // names within a column of the chart's left side; a vertical one writes them straight when they fit, else
  // turned 45° (90° when even that would overlap), and wraps a very long name onto a second line.
  function categoryLabels(element, labels, horizontal) {
    var longest = labels.reduce(function (w, label) { return Math.max(w, textWidth(label)); }, 0);
    var axisLabel = {fontFamily: FONT, fontSize: LABEL_FONT_SIZE, interval: 0, hideOverlap: false};
    var chartWidth = element.clientWidth || 600;
    if (horizontal) {
      axisLabel.width = Math.min(Math.ceil(longest) + 4, Math.round(chartWidth * 0.4));
      axisLabel.overflow = "break";
      // Each bar's slot holds its label's lines: a chart of wrapped names grows taller (never shorter).
      var lines = Math.ceil(longest / axisLabel.width);
      var needed = labels.length * (lines * (LABEL_FONT_SIZE + 4) + 6) + 90;
      if (needed > element.clientHeight) { element.style.height = needed + "px"; }
      return axisLabel;
    }
    var slot = (chartWidth - 80) / Math.max(labels.length, 1);
    if (longest + 8 <= slot) {
      axisLabel.rotate = 0;
      return axisLabel;
    }
    axisLabel.rotate = slot >= LABEL_FONT_SIZE * 1.9 ? 45 : 90;
    axisLabel.margin = 10;
    axisLabel.width = 130;
    axisLabel.overflow = "break";
    if (slot < LABEL_FONT_SIZE * 1.3) { axisLabel.fontSize = Math.max(9, Math.floor(slot / 1.3)); }
    return axisLabel;
  }

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
    var categoryAxis = {type: "category", data: labels, axisLabel: categoryLabels(element, labels, horizontal)};
    // The value axis says its unit: "%" after each figure, any other unit (件, 小时) as the axis name.
    var percent = spec.unit === "%";
    var valueAxis = {type: "value", name: percent ? "" : spec.unit || "", nameTextStyle: {fontFamily: FONT},
      axisLabel: {fontFamily: FONT, formatter: function (v) { return percent ? v + "%" : String(v); }}};
    if (spec.unit === "%") { valueAxis.max = function (range) { return Math.min(100, Math.ceil(range.max / 10) * 10); }; }
    // Every series' name stays in view: the legend wraps onto as many rows as it needs, the plot below it.
    var legendWidth = spec.series.reduce(function (w, s) { return w + textWidth(s.name) + 38; }, 0);
    var legendRows = Math.max(1, Math.ceil(legendWidth / Math.max((element.clientWidth || 600) - 40, 200)));
    var top = legendRows * 22 + (percent ? 16 : 36);
    if (legendRows > 1) { element.style.height = (element.clientHeight + (legendRows - 1) * 22) + "px"; }
    // A label turned 45° reaches left of its bar: room for the first one.
    var left = categoryAxis.axisLabel.rotate === 45 ? Math.round(categoryAxis.axisLabel.width * 0.6) : 10;
    var chart = echarts.init(element, null, {renderer: "canvas"});
    chart.setOption({
      color: PALETTE,
      textStyle: {fontFamily: FONT},
      animation: false,
      tooltip: {trigger: "axis", valueFormatter: function (v) {
        return v === null || v === undefined ? "—" : v + unitSuffix(spec.unit);
      }},
      legend: {top: 0, left: 20, right: 20, textStyle: {fontFamily: FONT}},
      grid: {left: left, right: 24, top: top, bottom: 8, containLabel: true},
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
