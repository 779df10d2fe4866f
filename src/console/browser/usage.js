// @ts-check
// The usage panel: revenue (spent) and calls over time from GET /admin/usage, for all accounts or one, by day or by hour.
import { admin } from './api.js';
import { fullBuckets, lineChart } from './charts.js';
import { fill, h, int, notice, table, usd, when } from './dom.js';

const RANGES = {
  day: { label: 'Last 30 days, by day', title: 'day' },
  hour: { label: 'Last 24 hours, by hour', title: 'hour' },
};

/** @param {number} v USD, a float for the axis only (the figures shown are exact, from integers) */
const usdAxis = (v) => `$${v < 1 && v > 0 ? v.toFixed(4).replace(/0+$/, '') : v.toLocaleString('en-US')}`;
/** @param {number} micro */
const microToAxis = (micro) => micro / 1_000_000;

/**
 * @param {{ id: string, heading: string, level: 2 | 3, accountId?: string }} spec
 * @returns {HTMLElement & { reload: () => Promise<void> }}
 */
export function usagePanel(spec) {
  /** @type {'day' | 'hour'} */
  let bucket = spec.accountId ? 'hour' : 'day';
  const body = h('div', { class: 'usage-body', 'aria-live': 'polite', 'aria-busy': 'true' }, h('p', null, 'Loading usage…'));
  const choices = Object.entries(RANGES).map(([value, r]) =>
    h('label', { class: 'choice' },
      h('input', { type: 'radio', name: `${spec.id}-bucket`, value, checked: value === bucket, onchange: () => { bucket = /** @type {'day' | 'hour'} */ (value); load(); } }),
      ` ${r.label}`));
  const refresh = h('button', { type: 'button', class: 'quiet', id: `${spec.id}-refresh`, onclick: () => load() }, 'Refresh');
  const section = h('section', { class: 'panel usage', id: spec.id, 'aria-labelledby': `${spec.id}-title` },
    h('div', { class: 'panel-head' },
      h(`h${spec.level}`, { id: `${spec.id}-title` }, spec.heading),
      h('fieldset', { class: 'choices' }, h('legend', { class: 'sr-only' }, 'Time range'), choices),
      refresh),
    body);

  async function load() {
    body.setAttribute('aria-busy', 'true');
    try {
      const usage = await admin.usage({ bucket, ...(spec.accountId && { account_id: spec.accountId }) });
      fill(body, ...render(spec.id, usage));
    } catch (e) {
      fill(body, notice('error', `Usage could not be read: ${/** @type {Error} */ (e).message}`));
    } finally {
      body.setAttribute('aria-busy', 'false');
    }
  }
  load();
  return Object.assign(section, { reload: load });
}

/**
 * @param {string} id
 * @param {any} usage the answer of GET /admin/usage
 * @returns {HTMLElement[]}
 */
function render(id, usage) {
  const rows = fullBuckets(usage);
  const totals = usage.totals ?? {};
  const times = rows.map((r) => r.t);
  const spent = Number(totals.spent_micro_usd ?? 0);
  const refunded = Number(totals.refunded_micro_usd ?? 0);
  const span = `${when(usage.from)} to ${when(usage.to)}`;
  const figures = h('dl', { class: 'figures', id: `${id}-totals` },
    figure('revenue', 'Revenue', usd(spent - refunded), `spent ${usd(spent)}, refunded ${usd(refunded)}`),
    figure('calls', 'Calls', int(totals.calls ?? 0), `${int(totals.free_calls ?? 0)} free, ${int(totals.paid_calls ?? 0)} paid`),
    figure('credited', 'Credited', usd(Number(totals.credited_micro_usd ?? 0)), 'grants and purchases'),
    tokensFigure(totals.claude_tokens));
  const revenue = lineChart({
    id: `${id}-revenue`, title: `Revenue (spent, USD) per ${usage.bucket}`, times, axis: usdAxis,
    summary: `${usd(spent)} spent from ${span}; exact figures in the table below.`,
    lines: [{ label: 'Spent', values: rows.map((r) => microToAxis(r.spent_micro_usd)), format: (v) => usd(Math.round(v * 1_000_000)), fill: true }],
  });
  const calls = lineChart({
    id: `${id}-calls`, title: `Calls per ${usage.bucket}`, times, axis: (v) => int(v),
    summary: `${int(totals.calls ?? 0)} calls from ${span}; exact figures in the table below.`,
    lines: [
      { label: 'Calls', values: rows.map((r) => r.calls), format: int },
      { label: 'Paid calls', values: rows.map((r) => r.paid_calls), format: int },
    ],
  });
  // Newest first, only buckets with something in them: the table is for reading figures, the chart for the shape.
  const busy = rows.filter((r) => r.calls || r.spent_micro_usd || r.credited_micro_usd || r.refunded_micro_usd).reverse();
  const data = h('details', { class: 'data' },
    h('summary', null, `Data table (${busy.length} ${usage.bucket}${busy.length === 1 ? '' : 's'} with activity)`),
    table(`Usage per ${usage.bucket} (UTC)`, ['Start', 'Calls', 'Free', 'Paid', 'Spent', 'Refunded', 'Credited'],
      busy.map((r) => [when(new Date(r.t).toISOString()), int(r.calls), int(r.free_calls), int(r.paid_calls), usd(r.spent_micro_usd), usd(r.refunded_micro_usd), usd(r.credited_micro_usd)]),
      { numeric: [1, 2, 3, 4, 5, 6], empty: 'No activity in this range.' }));
  data.querySelector('table')?.setAttribute('id', `${id}-table`);
  return [figures, h('div', { class: 'charts' }, revenue, calls), data];
}

/**
 * @param {string} name
 * @param {string} label
 * @param {string} value
 * @param {string} detail
 */
const figure = (name, label, value, detail) => h('div', { class: 'figure', 'data-figure': name }, h('dt', null, label), h('dd', null, h('span', { class: 'big' }, value), h('span', { class: 'detail' }, detail)));

/** @param {Record<string, Record<string, number>> | undefined} tokens Claude tokens by model */
function tokensFigure(tokens) {
  const models = Object.entries(tokens ?? {});
  if (!models.length) return figure('tokens', 'Claude tokens', '0', 'no Claude calls');
  const sum = (/** @type {Record<string, number>} */ t) => Object.values(t).reduce((a, b) => a + (Number(b) || 0), 0);
  const total = models.reduce((a, [, t]) => a + sum(t), 0);
  return figure('tokens', 'Claude tokens', int(total), models.map(([model, t]) => `${model}: ${int(sum(t))}`).join(', '));
}
