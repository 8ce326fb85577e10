/**
 * The run report: one self-contained HTML file (inline CSS and SVG, no scripts, no external
 * resources) built from a JSON-serialisable {@link RunReport}, which the CLI also writes as
 * report.json.
 */
import { OptionError, ShapeError } from '../errors';
import { formatDuration } from './progress';
import { FONT_STACK, escapeXml, formatNumber, heatmap, histogram, lineChart, raster, scatter } from './svg';

/** A spike train [steps, neurons], time-first, as plain numbers (0 or 1). */
export interface ReportRaster {
  steps: number;
  neurons: number;
  data: number[];
}

/** Everything a run report shows. JSON-serialisable (report.json). */
export interface RunReport {
  /** Run name (the run folder's name). */
  name: string;
  /** ISO 8601 time of the run. */
  createdAt: string;
  /** The options of the run, shown as a key/value table. */
  config: Record<string, unknown>;
  seed: number;
  /** Every training batch's loss, in order. */
  batchLoss: number[];
  /** Per epoch: mean loss, spike density per layer (input first, as fractions), wall seconds. */
  epochs: Array<{ epoch: number; meanLoss: number; density: number[]; seconds: number }>;
  /** Layer names for the density columns, e.g. ['input', 'lif1', 'lif2']. */
  layerNames: string[];
  /** Test accuracy as fractions in [0, 1] (NaN or null: not measured). */
  accuracy: Array<{ model: string; linear: number; knn: number }>;
  /** Confusion matrix (rows true, columns predicted) of `model` on the test set. */
  confusion: { labels: string[]; matrix: number[][]; model: string };
  /** One digit: its two Poisson views and the hidden layers' spikes for view 1. */
  sample: { label: number; views: ReportRaster[]; layers: Array<ReportRaster & { name: string }> };
  /** Mean firing rate of each representation neuron over the test set. */
  firingRates: number[];
  /** 2-D PCA of the test representations: points [n, 2] flat, their labels, explained variance ratios. */
  pca: { points: number[]; labels: number[]; explained: [number, number] };
  /** Wall-clock seconds per phase: train, features, linear, knn, total, … */
  timings: Record<string, number>;
}

const CSS = `
:root{color-scheme:light}
*{box-sizing:border-box}
body{margin:0;background:#f6f7f9;color:#222;font:15px/1.5 ${FONT_STACK}}
main{max-width:1120px;margin:0 auto;padding:28px 24px 48px}
h1{font-size:26px;margin:0 0 4px;font-weight:650;letter-spacing:-.01em}
h2{font-size:18px;margin:0 0 12px;font-weight:620}
.meta{color:#666;margin:0 0 24px}
section{background:#fff;border:1px solid #e3e5e8;border-radius:10px;padding:18px 20px;margin:0 0 18px}
figure{margin:0;display:inline-block;vertical-align:top;max-width:100%}
figcaption,.caption{color:#555;font-size:13.5px;margin:8px 0 0;max-width:72ch}
.row{display:flex;flex-wrap:wrap;gap:18px;align-items:flex-start}
svg{max-width:100%;height:auto}
table{border-collapse:collapse;font-variant-numeric:tabular-nums;font-size:14px}
th,td{padding:5px 12px;border-bottom:1px solid #eceef1;text-align:left}
th{font-weight:600;color:#444;background:#fafbfc}
td.num,th.num{text-align:right}
td.best{font-weight:700}
.empty{color:#888;font-style:italic}
.cfg{display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:6px 18px;margin:0}
.cfg div{display:flex;justify-content:space-between;gap:10px;border-bottom:1px solid #eceef1;padding:3px 0;font-size:13.5px}
.cfg dt{color:#555}
.cfg dd{margin:0;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:13px;text-align:right;word-break:break-word}
footer{color:#888;font-size:12.5px;text-align:center}
`;

function pct(v: unknown): string {
  return typeof v === 'number' && Number.isFinite(v) ? `${(v * 100).toFixed(2)} %` : 'n/a';
}

function valueText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) return String(v);
  return JSON.stringify(v);
}

function section(title: string, body: string): string {
  return `<section><h2>${escapeXml(title)}</h2>${body}</section>`;
}

function figure(svg: string, caption: string): string {
  return `<figure>${svg}<figcaption>${escapeXml(caption)}</figcaption></figure>`;
}

function accuracyTable(rows: RunReport['accuracy']): string {
  for (const r of rows) {
    for (const k of ['linear', 'knn'] as const) {
      const v = r[k];
      if (typeof v === 'number' && Number.isFinite(v) && (v < 0 || v > 1)) {
        throw new OptionError(`renderReportHtml: accuracy must be a fraction in [0, 1], got ${k} = ${v} for '${r.model}'`);
      }
    }
  }
  const best = (k: 'linear' | 'knn') => Math.max(...rows.map((r) => (Number.isFinite(r[k]) ? r[k] : -Infinity)));
  const bl = best('linear');
  const bk = best('knn');
  let s = '<table><thead><tr><th>representation</th><th class="num">linear probe</th><th class="num">kNN</th></tr></thead><tbody>';
  for (const r of rows) {
    s += `<tr><td>${escapeXml(r.model)}</td>`;
    s += `<td class="num${r.linear === bl ? ' best' : ''}">${pct(r.linear)}</td>`;
    s += `<td class="num${r.knn === bk ? ' best' : ''}">${pct(r.knn)}</td></tr>`;
  }
  return s + '</tbody></table>';
}

/** Key/value pairs as a compact grid of <dt>/<dd> pairs. */
function kvGrid(entries: Array<[string, string]>): string {
  if (entries.length === 0) return '<p class="empty">None recorded.</p>';
  let s = '<dl class="cfg">';
  for (const [k, v] of entries) s += `<div><dt>${escapeXml(k)}</dt><dd>${escapeXml(v)}</dd></div>`;
  return s + '</dl>';
}

function epochTable(r: RunReport): string {
  const layers = r.layerNames;
  for (const e of r.epochs) {
    if (e.density.length !== layers.length) {
      throw new ShapeError(`renderReportHtml: epoch ${e.epoch} has ${e.density.length} densities but there are ${layers.length} layer names`);
    }
  }
  let s = '<table><thead><tr><th class="num">epoch</th><th class="num">mean loss</th>';
  for (const l of layers) s += `<th class="num">density ${escapeXml(l)}</th>`;
  s += '<th class="num">time</th></tr></thead><tbody>';
  for (const e of r.epochs) {
    s += `<tr><td class="num">${e.epoch}</td><td class="num">${escapeXml(formatNumber(e.meanLoss, 4))}</td>`;
    for (const d of e.density) s += `<td class="num">${Number.isFinite(d) ? (d * 100).toFixed(1) + ' %' : 'n/a'}</td>`;
    s += `<td class="num">${escapeXml(formatDuration(e.seconds))}</td></tr>`;
  }
  return s + '</tbody></table>';
}

function lossFigure(r: RunReport): string {
  const loss = r.batchLoss;
  if (loss.length === 0) return '<p class="empty">No training batches were recorded.</p>';
  const series: Array<{ name: string; y: number[]; x?: number[] }> = [{ name: 'batch loss', y: loss }];
  const epochs = r.epochs.length;
  // Each epoch's mean sits at the middle of its batches (epochs of equal length assumed).
  if (epochs > 0) {
    const per = loss.length / epochs;
    series.push({ name: 'epoch mean', y: r.epochs.map((e) => e.meanLoss), x: r.epochs.map((_, i) => (i + 0.5) * per - 0.5) });
  }
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of series) for (const v of s.y) if (Number.isFinite(v)) ((lo = Math.min(lo, v)), (hi = Math.max(hi, v)));
  const logY = lo > 0 && hi / lo > 20;
  const svg = lineChart(series, { title: 'Training loss', xLabel: 'batch', yLabel: logY ? 'loss (log scale)' : 'loss', width: 760, height: 320, logY });
  const caption =
    `The loss of every training batch (${loss.length} batches${epochs ? ` in ${epochs} epoch${epochs === 1 ? '' : 's'}` : ''}) ` +
    `and the mean of each epoch, placed at the epoch's middle batch${logY ? '; log scale' : ''}.`;
  return figure(svg, caption);
}

function density(x: ReportRaster): number {
  let c = 0;
  for (const v of x.data) c += v;
  return x.data.length ? c / x.data.length : 0;
}

function rasterFigures(r: RunReport): string {
  const { sample } = r;
  if (sample.views.length === 0 && sample.layers.length === 0) return '<p class="empty">No sample was recorded.</p>';
  const views = sample.views
    .map((v, i) => raster(v, { title: `view ${i + 1} (input)`, width: 360, height: 280, color: '#2b5d8a' }))
    .join('');
  const layers = sample.layers.map((l) => raster(l, { title: l.name, width: 360, height: 280, color: '#8a3b2b' })).join('');
  const vd = sample.views.map((v) => `${(density(v) * 100).toFixed(1)} %`).join(' and ');
  const ld = sample.layers.map((l) => `${l.name} ${(density(l) * 100).toFixed(1)} %`).join(', ');
  let s = '';
  if (views) {
    s += `<div class="row">${views}</div><p class="caption">${escapeXml(
      `Spikes of one test digit (a ${sample.label}): the two views are independent Poisson encodings of the same image ` +
        `(time steps on x, the ${sample.views[0].neurons} pixels on y, one mark per spike; density ${vd}). ` +
        'They differ only by the random sampling of the spikes; the SSL loss asks the network to map both to the same representation.',
    )}</p>`;
  }
  if (layers) {
    s += `<div class="row" style="margin-top:14px">${layers}</div><p class="caption">${escapeXml(
      `The hidden spiking layers’ response to view 1 (neurons on y; density ${ld}). The representation is the firing rate of the last layer.`,
    )}</p>`;
  }
  return s;
}

function ratesFigure(rates: number[]): string {
  if (rates.length === 0) return '<p class="empty">No firing rates were recorded.</p>';
  let silent = 0;
  let saturated = 0;
  let sum = 0;
  for (const v of rates) {
    if (v === 0) silent++;
    if (v === 1) saturated++;
    sum += v;
  }
  const inUnit = rates.every((v) => v >= 0 && v <= 1);
  const svg = histogram(rates, { bins: 40, range: inUnit ? [0, 1] : undefined, title: 'Firing rates of the representation', xLabel: 'mean firing rate (spikes per step)', width: 480, height: 300 });
  const caption =
    `Mean firing rate of each of the ${rates.length} representation neurons over the test set (mean ${formatNumber(sum / rates.length, 3)}). ` +
    `${silent} neuron${silent === 1 ? ' is' : 's are'} silent (rate 0) and ${saturated} fire${saturated === 1 ? 's' : ''} at every step (rate 1); both carry no information.`;
  return figure(svg, caption);
}

function confusionFigure(c: RunReport['confusion']): string {
  if (c.matrix.length === 0) return '<p class="empty">No confusion matrix was recorded.</p>';
  const svg = heatmap(c.matrix, { rowLabels: c.labels, colLabels: c.labels, xLabel: 'predicted', yLabel: 'true', title: `Confusion matrix — ${c.model}`, scale: 'sqrt', annotate: true });
  let total = 0;
  let right = 0;
  c.matrix.forEach((row, i) => row.forEach((v, j) => ((total += v), (right += i === j ? v : 0))));
  const caption =
    `Test-set predictions of the ${c.model}: row = true class, column = predicted class (${right} of ${total} on the diagonal). ` +
    'Colour ∝ √count, so rare confusions stay visible.';
  return figure(svg, caption);
}

function pcaFigure(p: RunReport['pca']): string {
  const n = p.labels.length;
  if (n === 0) return '<p class="empty">No PCA was recorded.</p>';
  const maxPoints = 2000;
  const svg = scatter(p.points, p.labels, { title: 'Test representations, first two principal components', maxPoints, xLabel: 'PC 1', yLabel: 'PC 2', width: 520, height: 420 });
  const caption =
    `Each dot is one test image’s representation projected on its first two principal components, coloured by digit ` +
    `(PC 1 explains ${(p.explained[0] * 100).toFixed(1)} % and PC 2 ${(p.explained[1] * 100).toFixed(1)} % of the variance; ` +
    `${Math.min(n, maxPoints)} of ${n} points drawn, evenly spaced through the test set).`;
  return figure(svg, caption);
}

/**
 * Renders a run report as one self-contained HTML page: title and configuration, the accuracy
 * table (percent, 2 decimals, best per column in bold), the loss curve with a per-epoch table
 * (mean loss, spike density per layer, time), spike rasters (the two views side by side, then
 * each hidden layer), the firing-rate histogram, the confusion matrix, the PCA scatter plot and
 * the timings, each figure with a caption.
 * Every string from the report is escaped. Sections with no data say so instead of failing.
 *
 * @example
 * ```ts
 * const html = renderReportHtml(report);          // write to runs/NAME/report.html
 * const json = JSON.stringify(report);            // and runs/NAME/report.json
 * ```
 */
export function renderReportHtml(report: RunReport): string {
  const r = report;
  const title = `spikessl run — ${r.name}`;
  const timings = Object.entries(r.timings).map(([k, v]): [string, string] => [k, formatDuration(v)]);
  const config = Object.entries(r.config).map(([k, v]): [string, string] => [k, valueText(v)]);
  const parts: string[] = [];
  parts.push('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"/>');
  parts.push('<meta name="viewport" content="width=device-width, initial-scale=1"/>');
  parts.push(`<meta name="generator" content="spikessl"/><title>${escapeXml(title)}</title><style>${CSS}</style></head><body><main>`);
  parts.push(`<h1>${escapeXml(r.name)}</h1>`);
  parts.push(`<p class="meta">${escapeXml(`spikessl run · ${r.createdAt} · seed ${r.seed}`)}</p>`);
  parts.push(section('Configuration', kvGrid([['seed', String(r.seed)], ...config])));
  parts.push(
    section(
      'Test accuracy',
      accuracyTable(r.accuracy) +
        '<p class="caption">Classifiers trained on frozen features of the training set, scored on the test set: a linear probe (logistic regression on standardised features) and k-nearest neighbours. Best per column in bold.</p>',
    ),
  );
  parts.push(section('Training loss', lossFigure(r) + (r.epochs.length ? `<div style="margin-top:14px">${epochTable(r)}</div><p class="caption">Spike density: the fraction of (neuron, time step) pairs that spike, per layer, over the epoch.</p>` : '')));
  parts.push(section('Spike rasters', rasterFigures(r)));
  parts.push(section('Firing rates', ratesFigure(r.firingRates)));
  parts.push(section('Confusion matrix', confusionFigure(r.confusion)));
  parts.push(section('Principal components', pcaFigure(r.pca)));
  parts.push(section('Timings', kvGrid(timings)));
  parts.push('<footer>Generated by spikessl. Self-contained: no scripts, no external resources.</footer>');
  parts.push('</main></body></html>\n');
  return parts.join('');
}
