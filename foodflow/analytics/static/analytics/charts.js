/* Draws every chart of a page: each element with [data-chart] names the id of a JSON data block
   (Django's json_script) holding a specification made by foodflow/analytics/charts.py. When drawn,
   the element gets data-rendered="true" (the browser tests wait for it). */
(function () {
  "use strict";

  function money(value) {
    if (value === null || value === undefined) { return "—"; }
    return Number(value).toLocaleString(document.documentElement.lang || "zh-CN", { maximumFractionDigits: 0 });
  }

  function option(spec) {
    var base = {
      title: spec.title ? { text: spec.title, left: 0, textStyle: { fontSize: 13, fontWeight: 500 } } : undefined,
      tooltip: { trigger: spec.kind === "pie" ? "item" : "axis", valueFormatter: money },
      animation: false,
    };
    if (spec.kind === "pie") {
      base.legend = { bottom: 0, type: "scroll" };
      base.series = spec.series.map(function (s) {
        return { name: s.name, type: "pie", radius: ["40%", "68%"], data: s.data, label: { formatter: "{b}: {d}%" } };
      });
      return base;
    }
    if (spec.kind === "gauge") {
      base.series = [{
        type: "gauge", min: 0, max: spec.max || 150, progress: { show: true, width: 12 },
        axisLine: { lineStyle: { width: 12 } }, detail: { valueAnimation: false, formatter: "{value}%", fontSize: 20 },
        data: [{ value: spec.value === null ? 0 : spec.value, name: spec.title || "" }],
      }];
      delete base.title;
      return base;
    }
    var horizontal = spec.kind === "bars";
    var categoryAxis = { type: "category", data: spec.categories, inverse: horizontal, axisLabel: { width: 140, overflow: "truncate" } };
    var valueAxis = { type: "value", axisLabel: { formatter: money } };
    base.legend = spec.series.length > 1 ? { top: 0, right: 0 } : undefined;
    base.grid = { left: 8, right: 16, top: spec.title || spec.series.length > 1 ? 36 : 12, bottom: 8, containLabel: true };
    base.xAxis = horizontal ? valueAxis : categoryAxis;
    base.yAxis = horizontal ? categoryAxis : valueAxis;
    base.series = spec.series.map(function (s) {
      return { name: s.name, type: s.type, data: s.data, smooth: s.type === "line", connectNulls: false };
    });
    return base;
  }

  function draw(element) {
    var source = document.getElementById(element.dataset.chart);
    if (!source || !window.echarts) { return; }
    var chart = window.echarts.init(element, null, { renderer: "svg" });
    chart.setOption(option(JSON.parse(source.textContent)));
    element.dataset.rendered = "true";
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function drawAll(root) {
    (root || document).querySelectorAll("[data-chart]:not([data-rendered])").forEach(draw);
  }

  document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  document.addEventListener("htmx:afterSettle", function (event) { drawAll(event.target); });
})();
