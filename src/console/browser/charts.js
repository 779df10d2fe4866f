// @ts-check
// Time charts with uPlot (loaded by the page as a classic script: the global `uPlot`), in UTC, resized with their container.
import { h } from './dom.js';

/** @type {typeof import('uplot')} */
const uPlot = /** @type {any} */ (window).uPlot;

const HOUR = 3_600_000;
const DAY = 86_400_000;

/**
 * The buckets of `usage` on a full time axis: every hour (or day) from `from` to `to`, the missing ones as zeros,
 * so that a quiet day shows as 0 and not as a line drawn across it.
 * @param {{ bucket: 'hour' | 'day', from: string, to: string, buckets: Array<Record<string, any>> }} usage
 * @returns {Array<Record<string, any> & { t: number }>}
 */
export function fullBuckets(usage) {
  const step = usage.bucket === 'hour' ? HOUR : DAY;
  /** @type {Map<number, Record<string, any>>} */
  const byStart = new Map();
  for (const b of usage.buckets) byStart.set(Date.parse(b.start), b);
  const from = Math.floor(Date.parse(usage.from) / step) * step;
  const to = Date.parse(usage.to);
  const starts = new Set(byStart.keys());
  // At most 800 generated buckets, whatever the answer says (the API caps ranges at 744 hours / 400 days).
  for (let t = from, n = 0; Number.isFinite(t) && t < to && n < 800; t += step, n++) starts.add(t);
  return [...starts].sort((a, b) => a - b).map((t) => ({ calls: 0, free_calls: 0, paid_calls: 0, spent_micro_usd: 0, refunded_micro_usd: 0, credited_micro_usd: 0, ...byStart.get(t), t }));
}

/** Colours with at least 4.5:1 contrast on white (text in the legend uses them too). */
export const COLORS = ['#1f5fa8', '#a34700', '#2e7d32', '#6a3d9a'];

/**
 * @typedef {{ label: string, values: number[], format: (v: number) => string, color?: string, fill?: boolean }} Line
 */

/**
 * A line chart of `lines` over `times` (ms), in a <figure> whose caption names it; the same figures are in the data table beside it.
 * @param {{ id: string, title: string, times: number[], lines: Line[], axis: (v: number) => string, summary: string }} spec
 * @returns {HTMLElement}
 */
export function lineChart(spec) {
  const plot = h('div', { class: 'plot', id: `${spec.id}-plot` });
  const figure = h('figure', { class: 'chart', id: spec.id, 'aria-labelledby': `${spec.id}-caption`, 'aria-describedby': `${spec.id}-summary` },
    h('figcaption', { id: `${spec.id}-caption` }, spec.title),
    h('p', { class: 'chart-summary', id: `${spec.id}-summary` }, spec.summary),
    plot);
  if (!uPlot) {
    plot.append(h('p', { class: 'notice error', role: 'alert' }, 'The chart library did not load: see the data table.'));
    return figure;
  }
  const opts = {
    width: 600,
    height: 220,
    tzDate: (/** @type {number} */ ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
    scales: { x: { time: true }, y: { range: (/** @type {any} */ _u, /** @type {number} */ _min, /** @type {number} */ max) => /** @type {[number, number]} */ ([0, max > 0 ? max * 1.1 : 1]) } },
    axes: [
      { stroke: '#333', grid: { stroke: '#e4e4e4' }, ticks: { stroke: '#ccc' } },
      { stroke: '#333', grid: { stroke: '#e4e4e4' }, ticks: { stroke: '#ccc' }, size: 64, values: (/** @type {any} */ _u, /** @type {number[]} */ vals) => vals.map(spec.axis) },
    ],
    series: [
      { label: 'Time (UTC)', value: '{YYYY}-{MM}-{DD} {HH}:{mm}' },
      ...spec.lines.map((line, i) => ({
        label: line.label,
        stroke: line.color ?? COLORS[i % COLORS.length],
        width: 2,
        fill: line.fill ? `${line.color ?? COLORS[i % COLORS.length]}1f` : undefined,
        points: { show: spec.times.length <= 48 },
        value: (/** @type {any} */ _u, /** @type {number | null} */ v) => (v === null || v === undefined ? '—' : line.format(v)),
      })),
    ],
  };
  const data = /** @type {any} */ ([spec.times.map((t) => t / 1000), ...spec.lines.map((l) => l.values)]);
  const chart = new uPlot(/** @type {any} */ (opts), data, plot);
  // The canvas is a picture of the table next to it: screen readers get the caption, the summary and the table instead.
  for (const canvas of plot.querySelectorAll('canvas')) canvas.setAttribute('aria-hidden', 'true');
  const resize = () => {
    const width = Math.max(280, Math.floor(figure.clientWidth - 2));
    if (width !== chart.width) chart.setSize({ width, height: 220 });
  };
  // The figure may be built before it is on the page: sized once it is, destroyed once it leaves it.
  let shown = false;
  const observer = new ResizeObserver(() => {
    if (figure.isConnected) {
      shown = true;
      resize();
    } else if (shown) {
      observer.disconnect();
      chart.destroy();
    }
  });
  observer.observe(figure);
  return figure;
}
