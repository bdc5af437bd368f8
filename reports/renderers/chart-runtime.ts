/**
 * The chart runtime both the HTML page and the PNG renderer run: time-axis labels, a plugin that
 * draws scaling activities as dashed lines and breach windows as shaded bands, and a white
 * background. It is one JavaScript string so the browser and Node execute exactly the same code
 * (chart configs stay plain JSON; functions are attached by `peakdayPrepare`).
 */

/** Plain ES2017 JavaScript; defines `peakdayPrepare(config)` and `peakdayFormatTime(seconds)`. */
export const CHART_RUNTIME_JS = String.raw`
function peakdayFormatTime(v) {
  var s = Math.round(v), sign = s < 0 ? '\u2212' : '', a = Math.abs(s);
  var d = Math.floor(a / 86400), h = Math.floor((a % 86400) / 3600), m = Math.floor((a % 3600) / 60);
  return sign + (d ? d + 'd ' : '') + String(h).padStart(2, '0') + ':' + String(m).padStart(2, '0');
}
var peakdayMarkersPlugin = {
  id: 'peakdayMarkers',
  beforeDraw: function (chart) {
    var c = chart.ctx;
    c.save();
    c.globalCompositeOperation = 'destination-over';
    c.fillStyle = '#ffffff';
    c.fillRect(0, 0, chart.width, chart.height);
    c.restore();
  },
  beforeDatasetsDraw: function (chart, args, opts) {
    var x = chart.scales.x, area = chart.chartArea, c = chart.ctx;
    if (!x || !opts || !opts.bands) return;
    c.save();
    opts.bands.forEach(function (b) {
      var x0 = Math.max(area.left, x.getPixelForValue(b.start));
      var x1 = Math.min(area.right, x.getPixelForValue(b.end));
      if (x1 <= x0) return;
      c.fillStyle = b.color || 'rgba(220,38,38,0.12)';
      c.fillRect(x0, area.top, x1 - x0, area.bottom - area.top);
    });
    c.restore();
  },
  afterDatasetsDraw: function (chart, args, opts) {
    var x = chart.scales.x, area = chart.chartArea, c = chart.ctx;
    if (!x || !opts || !opts.lines) return;
    c.save();
    c.setLineDash([4, 3]);
    c.lineWidth = 1;
    // Labels closer than their width to the previous one go one row down (up to 4 rows), so
    // activities in quick succession stay readable instead of printing over each other.
    var rowEnds = [-Infinity, -Infinity, -Infinity, -Infinity];
    c.font = '10px sans-serif';
    opts.lines.forEach(function (l) {
      var px = x.getPixelForValue(l.t);
      if (px < area.left || px > area.right) return;
      c.strokeStyle = l.color || 'rgba(124,58,237,0.8)';
      c.beginPath();
      c.moveTo(px, area.top);
      c.lineTo(px, area.bottom);
      c.stroke();
      if (l.label) {
        var w = c.measureText(l.label).width;
        var row = 0;
        while (row < rowEnds.length - 1 && rowEnds[row] > px) row++;
        rowEnds[row] = px + 3 + w + 4;
        c.fillStyle = l.color || 'rgba(124,58,237,0.9)';
        c.fillText(l.label, px + 3, area.top + 10 + row * 11);
      }
    });
    c.restore();
  }
};
function peakdayPrepare(cfg) {
  var scales = (cfg.options && cfg.options.scales) || {};
  Object.keys(scales).forEach(function (k) {
    var s = scales[k];
    if (s && s.peakdayTime) {
      s.ticks = Object.assign({}, s.ticks, { callback: function (v) { return peakdayFormatTime(v); } });
    }
  });
  cfg.options = cfg.options || {};
  cfg.options.plugins = cfg.options.plugins || {};
  cfg.options.plugins.tooltip = Object.assign({}, cfg.options.plugins.tooltip, {
    callbacks: { title: function (items) { return items.length ? 'event ' + peakdayFormatTime(items[0].parsed.x) : ''; } }
  });
  cfg.plugins = [peakdayMarkersPlugin];
  return cfg;
}
`;

/** What the runtime exports when evaluated. */
export interface ChartRuntime {
  peakdayPrepare(config: unknown): unknown;
  peakdayFormatTime(seconds: number): string;
}

/** Evaluates the runtime in Node (for the PNG renderer and tests). */
export function loadChartRuntime(): ChartRuntime {
  return new Function(
    `${CHART_RUNTIME_JS}; return { peakdayPrepare: peakdayPrepare, peakdayFormatTime: peakdayFormatTime };`,
  )() as ChartRuntime;
}
