/**
 * Small SVG charts for the run report: line chart, spike raster, histogram, heatmap and
 * scatter plot. Each function returns one self-contained `<svg>` string — inline styles,
 * no scripts, no external resources, no ids (so any number of charts can share a page) —
 * whose first child is a `<title>` that names the chart for screen readers.
 *
 * Geometry: every chart draws its marks inside a plot area `<rect class="plot-area">`; data
 * extremes map exactly onto its edges (the scatter plot pads them by 4 %). Coordinates are
 * rounded to 0.1 px to keep the files small.
 */
import { OptionError, ShapeError } from '../errors';

/** The Tableau 10 palette: ten colours that stay distinguishable, also for most colour-blind readers. */
export const TABLEAU10: readonly string[] = [
  '#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f',
  '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac',
];

/** The font stack of every chart: the platform's UI font. */
export const FONT_STACK = 'system-ui, -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif';

const INK = '#333333';
const MUTED = '#666666';
const GRID = '#e6e6e6';
const FRAME = '#bbbbbb';

/**
 * Escapes a string for HTML or XML text and double- or single-quoted attribute values:
 * `&` `<` `>` `"` `'` become entities.
 *
 * @example
 * ```ts
 * escapeXml('a < b & "c"'); // 'a &lt; b &amp; &quot;c&quot;'
 * ```
 */
export function escapeXml(s: string): string {
  return String(s).replace(/[&<>"']/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&#39;'));
}

/** A coordinate rounded to 0.1 px, without a trailing ".0" or a "-0". */
function px(v: number): string {
  const r = Math.round(v * 10) / 10;
  return r === 0 ? '0' : String(r);
}

/** Formats a number for a label: integers plainly, others with `digits` significant digits, no exponent for ordinary magnitudes. */
export function formatNumber(v: number, digits = 3): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v) && Math.abs(v) < 1e7) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e7)) return v.toExponential(digits - 1);
  return String(Number(v.toPrecision(digits)));
}

/** A "nice" step (1, 2 or 5 × 10^k) near `span / count`. */
function niceStep(span: number, count: number): number {
  const raw = span / Math.max(1, count);
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const f = raw / mag;
  return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag;
}

interface Tick {
  value: number;
  label: string;
}

/** Ticks at multiples of a nice step inside [lo, hi]. */
function linearTicks(lo: number, hi: number, count: number): Tick[] {
  if (!(hi > lo)) return [{ value: lo, label: formatNumber(lo) }];
  const step = niceStep(hi - lo, count);
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  const ticks: Tick[] = [];
  const eps = step * 1e-9;
  for (let k = Math.ceil((lo - eps) / step); k * step <= hi + eps; k++) {
    const value = k * step;
    const a = Math.abs(value);
    const label = a !== 0 && (a >= 1e6 || decimals > 6) ? value.toExponential(1) : value.toFixed(decimals);
    ticks.push({ value, label: label === '-0' ? '0' : label });
  }
  return ticks;
}

/** Ticks for a log10 axis over [lo, hi] (both > 0): the powers of ten inside, or linear ticks within one decade. */
function logTicks(lo: number, hi: number): Tick[] {
  const k0 = Math.ceil(Math.log10(lo) - 1e-9);
  const k1 = Math.floor(Math.log10(hi) + 1e-9);
  if (k1 - k0 + 1 < 2) return linearTicks(lo, hi, 4).filter((t) => t.value > 0);
  const every = Math.ceil((k1 - k0 + 1) / 7);
  const ticks: Tick[] = [];
  for (let k = k0; k <= k1; k += every) {
    ticks.push({ value: Math.pow(10, k), label: k >= -3 && k <= 5 ? formatNumber(Math.pow(10, k)) : `1e${k}` });
  }
  return ticks;
}

/** The `<svg>` start tag and its `<title>`. */
function svgOpen(width: number, height: number, title: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
    `role="img" font-family="${FONT_STACK}" font-size="12" fill="${INK}">` +
    `<title>${escapeXml(title)}</title>`
  );
}

function checkSize(op: string, name: string, v: number, min: number): number {
  if (!Number.isFinite(v) || v < min) throw new OptionError(`${op}: ${name} must be a number ≥ ${min}, got ${v}`);
  return v;
}

/** The plot rectangle inside the chart. */
interface Frame {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** Chart title (top left), axis labels, the plot frame, and grid lines with tick labels. */
function axes(f: Frame, xTicks: Tick[], xPos: (v: number) => number, yTicks: Tick[], yPos: (v: number) => number, o: { title: string; xLabel?: string; yLabel?: string; grid?: boolean }): string {
  const parts: string[] = [];
  if (o.title) parts.push(`<text x="${px(f.x)}" y="18" font-size="14" font-weight="600">${escapeXml(o.title)}</text>`);
  const grid = o.grid !== false;
  let lines = '';
  for (const t of yTicks) {
    const y = yPos(t.value);
    if (grid) lines += `M${px(f.x)} ${px(y)}h${px(f.w)}`;
  }
  for (const t of xTicks) {
    const x = xPos(t.value);
    if (grid) lines += `M${px(x)} ${px(f.y)}v${px(f.h)}`;
  }
  if (lines) parts.push(`<path d="${lines}" stroke="${GRID}" fill="none"/>`);
  parts.push(`<rect class="plot-area" x="${px(f.x)}" y="${px(f.y)}" width="${px(f.w)}" height="${px(f.h)}" fill="none" stroke="${FRAME}"/>`);
  let labels = `<g font-size="11" fill="${MUTED}">`;
  for (const t of yTicks) labels += `<text x="${px(f.x - 6)}" y="${px(yPos(t.value) + 4)}" text-anchor="end">${escapeXml(t.label)}</text>`;
  for (const t of xTicks) labels += `<text x="${px(xPos(t.value))}" y="${px(f.y + f.h + 15)}" text-anchor="middle">${escapeXml(t.label)}</text>`;
  labels += '</g>';
  parts.push(labels);
  if (o.xLabel) parts.push(`<text x="${px(f.x + f.w / 2)}" y="${px(f.y + f.h + 34)}" text-anchor="middle">${escapeXml(o.xLabel)}</text>`);
  if (o.yLabel) {
    const cx = 14;
    const cy = f.y + f.h / 2;
    parts.push(`<text x="${px(cx)}" y="${px(cy)}" text-anchor="middle" transform="rotate(-90 ${px(cx)} ${px(cy)})">${escapeXml(o.yLabel)}</text>`);
  }
  return parts.join('');
}

/** A note in the bottom right corner of the plot (e.g. how many values were not drawn). */
function note(f: Frame, text: string): string {
  return `<text x="${px(f.x + f.w - 4)}" y="${px(f.y + f.h - 6)}" text-anchor="end" font-size="11" fill="${MUTED}">${escapeXml(text)}</text>`;
}

/** A note right-aligned under the plot, on the x-axis label's line (clear of the title). */
function footnote(f: Frame, text: string): string {
  return `<text x="${px(f.x + f.w)}" y="${px(f.y + f.h + 34)}" text-anchor="end" font-size="11" fill="${MUTED}">${escapeXml(text)}</text>`;
}

/** A single legend row per entry: a swatch and the escaped name, laid out right-aligned in the top margin. */
function legend(entries: Array<{ name: string; color: string; dot?: boolean }>, right: number, y: number): string {
  // Text width estimate: ~6.5 px per character at 12 px.
  const widths = entries.map((e) => 22 + Math.ceil(e.name.length * 6.5) + 12);
  let x = right - widths.reduce((a, b) => a + b, 0);
  let s = '<g class="legend">';
  entries.forEach((e, i) => {
    s += e.dot
      ? `<circle cx="${px(x + 8)}" cy="${px(y - 4)}" r="3.5" fill="${e.color}"/>`
      : `<path d="M${px(x)} ${px(y - 4)}h16" stroke="${e.color}" stroke-width="2"/>`;
    s += `<text x="${px(x + 22)}" y="${px(y)}">${escapeXml(e.name)}</text>`;
    x += widths[i];
  });
  return s + '</g>';
}

/** One series of a {@link lineChart}. */
export interface LineSeries {
  /** Legend entry. */
  name: string;
  /** Values; non-finite values leave a gap in the line. */
  y: ArrayLike<number>;
  /** x positions (same length as y); default 0, 1, 2, … */
  x?: ArrayLike<number>;
}

/** Options of {@link lineChart}. */
export interface LineChartOptions {
  /** Chart title (also the accessible name). Default 'Line chart'. */
  title?: string;
  xLabel?: string;
  yLabel?: string;
  /** Pixels; defaults 640 × 320. */
  width?: number;
  height?: number;
  /** A log10 y axis; every finite y must then be > 0. Default false. */
  logY?: boolean;
}

/**
 * A line chart of one or more series on shared axes. The smallest and largest x and y over all
 * series map exactly onto the plot area's edges (a constant range is widened by ±0.5, or ×/÷ 10
 * on a log axis). Series with at most 60 points also get a dot per point. Long series (over four
 * points per pixel column, x ascending) are thinned per pixel column to its first, smallest,
 * largest and last points, which draws the same picture.
 *
 * @example
 * ```ts
 * const svg = lineChart([{ name: 'loss', y: [3, 2, 1.5, 1.2] }], { title: 'Loss', xLabel: 'batch', logY: true });
 * ```
 */
export function lineChart(series: ReadonlyArray<LineSeries>, o: LineChartOptions = {}): string {
  const op = 'lineChart';
  if (!Array.isArray(series) || series.length === 0) throw new OptionError(`${op}: expected at least one series, got ${series?.length ?? series}`);
  const width = checkSize(op, 'width', o.width ?? 640, 120);
  const height = checkSize(op, 'height', o.height ?? 320, 80);
  const logY = o.logY ?? false;
  const title = o.title ?? 'Line chart';
  let xMin = Infinity;
  let xMax = -Infinity;
  let yMin = Infinity;
  let yMax = -Infinity;
  let skipped = 0;
  const xs: ArrayLike<number>[] = [];
  for (const s of series) {
    const n = s.y.length;
    let x = s.x;
    if (x === undefined) {
      const a = new Float64Array(n);
      for (let i = 0; i < n; i++) a[i] = i;
      x = a;
    } else if (x.length !== n) {
      throw new ShapeError(`${op}: series '${s.name}' has ${n} y values but ${x.length} x values`);
    }
    xs.push(x);
    for (let i = 0; i < n; i++) {
      const xi = x[i];
      const yi = s.y[i];
      if (!Number.isFinite(xi) || !Number.isFinite(yi)) {
        skipped++;
        continue;
      }
      if (logY && yi <= 0) throw new OptionError(`${op}: logY needs y > 0, but series '${s.name}' has y[${i}] = ${yi}`);
      if (xi < xMin) xMin = xi;
      if (xi > xMax) xMax = xi;
      if (yi < yMin) yMin = yi;
      if (yi > yMax) yMax = yi;
    }
  }
  const multi = series.length > 1;
  const f: Frame = { x: 64, y: multi || o.title ? 34 : 16, w: 0, h: 0 };
  f.w = width - f.x - 16;
  f.h = height - f.y - (o.xLabel ? 44 : 28);
  const empty = xMin > xMax;
  if (empty) {
    xMin = 0;
    xMax = 1;
    yMin = logY ? 1 : 0;
    yMax = logY ? 10 : 1;
  }
  if (xMin === xMax) {
    xMin -= 0.5;
    xMax += 0.5;
  }
  if (yMin === yMax) {
    if (logY) {
      yMin /= 10;
      yMax *= 10;
    } else {
      yMin -= 0.5;
      yMax += 0.5;
    }
  }
  const ty = logY ? Math.log10 : (v: number) => v;
  const ly0 = ty(yMin);
  const ly1 = ty(yMax);
  const xPos = (v: number) => f.x + ((v - xMin) / (xMax - xMin)) * f.w;
  const yPos = (v: number) => f.y + f.h - ((ty(v) - ly0) / (ly1 - ly0)) * f.h;
  const yTicks = logY ? logTicks(yMin, yMax) : linearTicks(yMin, yMax, Math.max(2, Math.round(f.h / 50)));
  const xTicks = linearTicks(xMin, xMax, Math.max(2, Math.round(f.w / 90)));
  let out = svgOpen(width, height, title);
  out += axes(f, xTicks, xPos, yTicks, yPos, { title: o.title ?? '', xLabel: o.xLabel, yLabel: o.yLabel });
  series.forEach((s, k) => {
    const color = TABLEAU10[k % TABLEAU10.length];
    const x = xs[k];
    const n = s.y.length;
    // Split into runs of finite points; each run is one subpath.
    let d = '';
    let dots = '';
    let i = 0;
    while (i < n) {
      while (i < n && !(Number.isFinite(x[i]) && Number.isFinite(s.y[i]))) i++;
      const start = i;
      while (i < n && Number.isFinite(x[i]) && Number.isFinite(s.y[i])) i++;
      if (i === start) continue;
      const pxs: number[] = [];
      const pys: number[] = [];
      for (let j = start; j < i; j++) {
        pxs.push(xPos(x[j]));
        pys.push(yPos(s.y[j]));
      }
      const [qx, qy] = thin(pxs, pys, f.x);
      d += `M${px(qx[0])} ${px(qy[0])}`;
      if (qx.length === 1) d += 'h0';
      else {
        d += 'L';
        for (let j = 1; j < qx.length; j++) d += `${j > 1 ? ' ' : ''}${px(qx[j])} ${px(qy[j])}`;
      }
      if (n <= 60) for (let j = 0; j < pxs.length; j++) dots += `M${px(pxs[j])} ${px(pys[j])}h0`;
    }
    if (d) out += `<path class="series" d="${d}" fill="none" stroke="${color}" stroke-width="1.5" stroke-linejoin="round" stroke-linecap="round"/>`;
    if (dots) out += `<path class="dots" d="${dots}" stroke="${color}" stroke-width="6" stroke-linecap="round"/>`;
  });
  if (multi) out += legend(series.map((s, k) => ({ name: s.name, color: TABLEAU10[k % TABLEAU10.length] })), width - 16, 20);
  if (empty) out += note(f, 'no data');
  else if (skipped > 0) out += note(f, `${skipped} non-finite value${skipped === 1 ? '' : 's'} not drawn`);
  return out + '</svg>';
}

/**
 * Thins a polyline with ascending x to the first, min, max and last points of each pixel
 * column (so the drawn envelope is unchanged) when it has over four points per column.
 */
function thin(xs: number[], ys: number[], x0: number): [number[], number[]] {
  const n = xs.length;
  const columns = Math.ceil(xs[n - 1] - xs[0]) + 1;
  if (n <= 4 * columns) return [xs, ys];
  for (let i = 1; i < n; i++) if (xs[i] < xs[i - 1]) return [xs, ys];
  const ox: number[] = [];
  const oy: number[] = [];
  let i = 0;
  while (i < n) {
    const col = Math.floor(xs[i] - x0);
    let j = i;
    let lo = i;
    let hi = i;
    while (j < n && Math.floor(xs[j] - x0) === col) {
      if (ys[j] < ys[lo]) lo = j;
      if (ys[j] > ys[hi]) hi = j;
      j++;
    }
    const keep = [...new Set([i, lo, hi, j - 1])].sort((a, b) => a - b);
    for (const k of keep) {
      ox.push(xs[k]);
      oy.push(ys[k]);
    }
    i = j;
  }
  return [ox, oy];
}

/** A spike train for {@link raster}: `data[t * neurons + i]` is 1 if neuron i spiked at step t, else 0. */
export interface RasterSpikes {
  data: ArrayLike<number>;
  steps: number;
  neurons: number;
}

/** Options of {@link raster}. */
export interface RasterOptions {
  /** Default 'Spike raster'. */
  title?: string;
  /** Pixels; defaults 320 × 260. */
  width?: number;
  height?: number;
  /** Colour of the marks. Default '#1f3b5a'. */
  color?: string;
}

/**
 * A spike raster: time step on x, neuron index on y (neuron 0 at the top). Each spike is one
 * mark — a horizontal stroke across its time step's column and its neuron's row — drawn as one
 * subpath of a single `<path class="spikes">`, so empty cells cost nothing.
 *
 * @example
 * ```ts
 * // 2 steps × 3 neurons, time-first: neuron 1 spikes at step 0, neurons 0 and 2 at step 1.
 * const svg = raster({ data: [0, 1, 0, 1, 0, 1], steps: 2, neurons: 3 }, { title: 'layer 1' });
 * ```
 */
export function raster(spikes: RasterSpikes, o: RasterOptions = {}): string {
  const op = 'raster';
  const { data, steps, neurons } = spikes;
  if (!Number.isSafeInteger(steps) || steps < 1 || !Number.isSafeInteger(neurons) || neurons < 1) {
    throw new ShapeError(`${op}: expected steps ≥ 1 and neurons ≥ 1 (integers), got steps = ${steps}, neurons = ${neurons}`);
  }
  if (data.length !== steps * neurons) {
    throw new ShapeError(`${op}: expected steps × neurons = ${steps} × ${neurons} = ${steps * neurons} values, got ${data.length}`);
  }
  const width = checkSize(op, 'width', o.width ?? 320, 80);
  const height = checkSize(op, 'height', o.height ?? 260, 80);
  const title = o.title ?? 'Spike raster';
  const f: Frame = { x: 52, y: 28, w: 0, h: 0 };
  f.w = width - f.x - 10;
  f.h = height - f.y - 40;
  const cw = f.w / steps;
  const ch = f.h / neurons;
  // Leave a small gap between time steps when the columns are wide enough to show it.
  const gap = cw >= 4 ? Math.min(2, cw * 0.1) : 0;
  let d = '';
  let count = 0;
  for (let t = 0; t < steps; t++) {
    const x = px(f.x + t * cw + gap / 2);
    const w = px(cw - gap);
    for (let i = 0; i < neurons; i++) {
      const v = data[t * neurons + i];
      if (v === 0) continue;
      if (v !== 1) throw new OptionError(`${op}: spikes must be 0 or 1, got ${v} at step ${t}, neuron ${i}`);
      d += `M${x} ${px(f.y + (i + 0.5) * ch)}h${w}`;
      count++;
    }
  }
  const xTicks: Tick[] = steps <= 16 ? Array.from({ length: steps }, (_, t) => ({ value: t, label: String(t) })) : linearTicks(0, steps - 1, 6).filter((t) => Number.isInteger(t.value));
  const yTicks: Tick[] = [{ value: 0, label: '0' }, { value: neurons - 1, label: String(neurons - 1) }];
  const xPos = (t: number) => f.x + (t + 0.5) * cw;
  const yPos = (i: number) => f.y + (i + 0.5) * ch;
  let out = svgOpen(width, height, title);
  out += axes(f, xTicks, xPos, yTicks, yPos, { title: o.title ?? '', xLabel: 'time step', grid: false });
  out += `<text x="${px(f.x - 30)}" y="${px(f.y + f.h / 2)}" text-anchor="middle" font-size="11" fill="${MUTED}" transform="rotate(-90 ${px(f.x - 30)} ${px(f.y + f.h / 2)})">neuron</text>`;
  // Thin rows (under 1 px) would be drawn faint by anti-aliasing; a minimum stroke keeps them visible.
  if (d) out += `<path class="spikes" d="${d}" stroke="${escapeXml(o.color ?? '#1f3b5a')}" stroke-width="${Math.max(0.6, Math.round(ch * 100) / 100)}"/>`;
  const density = count / (steps * neurons);
  out += `<text x="${px(f.x + f.w)}" y="18" text-anchor="end" font-size="11" fill="${MUTED}">${count} spikes · ${(density * 100).toFixed(1)} %</text>`;
  return out + '</svg>';
}

/** Options of {@link histogram}. */
export interface HistogramOptions {
  /** Number of equal-width bins. Default 30. */
  bins?: number;
  /** [lo, hi] of the bins; default the smallest and largest finite value (±0.5 if they are equal). */
  range?: [number, number];
  /** Default 'Histogram'. */
  title?: string;
  xLabel?: string;
  /** Pixels; defaults 480 × 280. */
  width?: number;
  height?: number;
}

/**
 * Counts `values` into `bins` equal-width bins over [lo, hi] the way NumPy's `histogram` does:
 * bin i holds edge[i] ≤ v < edge[i+1] with edge[i] = lo + (hi − lo)·i / bins, and the last bin
 * also holds v = hi. Returns the counts and how many values fell outside [lo, hi] or were not finite.
 *
 * @example
 * ```ts
 * histogramCounts([0, 0.1, 0.5, 1, 2], 2, 0, 1); // counts [2, 2], outside 1, nonFinite 0
 * ```
 */
export function histogramCounts(values: ArrayLike<number>, bins: number, lo: number, hi: number): { counts: Int32Array; outside: number; nonFinite: number } {
  const counts = new Int32Array(bins);
  let outside = 0;
  let nonFinite = 0;
  const scale = bins / (hi - lo);
  for (let k = 0; k < values.length; k++) {
    const v = values[k];
    if (!Number.isFinite(v)) {
      nonFinite++;
      continue;
    }
    if (v < lo || v > hi) {
      outside++;
      continue;
    }
    let i = Math.min(bins - 1, Math.floor((v - lo) * scale));
    // The fast guess can be off by one at an edge; settle it against the edges themselves.
    if (i > 0 && v < lo + ((hi - lo) * i) / bins) i--;
    else if (i < bins - 1 && v >= lo + ((hi - lo) * (i + 1)) / bins) i++;
    counts[i]++;
  }
  return { counts, outside, nonFinite };
}

/**
 * A histogram: one `<rect class="bar">` per bin (empty bins too, with height 0), each with a
 * tooltip `<title>` giving its interval and count; bar height ∝ count, the tallest bar fills the
 * plot. Values outside `range` and non-finite values are counted in a note, never dropped silently.
 *
 * @example
 * ```ts
 * const svg = histogram([0.1, 0.2, 0.2, 0.9], { bins: 10, range: [0, 1], title: 'Firing rates', xLabel: 'rate' });
 * ```
 */
export function histogram(values: ArrayLike<number>, o: HistogramOptions = {}): string {
  const op = 'histogram';
  const bins = o.bins ?? 30;
  if (!Number.isSafeInteger(bins) || bins < 1) throw new OptionError(`${op}: bins must be an integer ≥ 1, got ${bins}`);
  const width = checkSize(op, 'width', o.width ?? 480, 120);
  const height = checkSize(op, 'height', o.height ?? 280, 80);
  const title = o.title ?? 'Histogram';
  let lo: number;
  let hi: number;
  if (o.range) {
    [lo, hi] = o.range;
    if (!Number.isFinite(lo) || !Number.isFinite(hi) || !(hi > lo)) throw new OptionError(`${op}: range must be finite [lo, hi] with lo < hi, got [${lo}, ${hi}]`);
  } else {
    lo = Infinity;
    hi = -Infinity;
    for (let k = 0; k < values.length; k++) {
      const v = values[k];
      if (!Number.isFinite(v)) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (lo > hi) {
      lo = 0;
      hi = 1;
    } else if (lo === hi) {
      lo -= 0.5;
      hi += 0.5;
    }
  }
  const { counts, outside, nonFinite } = histogramCounts(values, bins, lo, hi);
  let maxCount = 0;
  for (let i = 0; i < bins; i++) if (counts[i] > maxCount) maxCount = counts[i];
  const f: Frame = { x: 56, y: 34, w: 0, h: 0 };
  f.w = width - f.x - 16;
  f.h = height - f.y - 44;
  const top = Math.max(1, maxCount);
  const xPos = (v: number) => f.x + ((v - lo) / (hi - lo)) * f.w;
  const yPos = (c: number) => f.y + f.h - (c / top) * f.h;
  const yTicks = linearTicks(0, top, Math.max(2, Math.round(f.h / 50))).filter((t) => Number.isInteger(t.value));
  let out = svgOpen(width, height, title);
  out += axes(f, linearTicks(lo, hi, Math.max(2, Math.round(f.w / 80))), xPos, yTicks, yPos, { title: o.title ?? '', xLabel: o.xLabel, yLabel: 'count' });
  out += `<g fill="${TABLEAU10[0]}">`;
  const bw = f.w / bins;
  const gap = bw >= 4 ? 1 : 0;
  for (let i = 0; i < bins; i++) {
    const a = lo + ((hi - lo) * i) / bins;
    const b = lo + ((hi - lo) * (i + 1)) / bins;
    const h = (counts[i] / top) * f.h;
    const close = i === bins - 1 ? ']' : ')';
    out += `<rect class="bar" x="${px(f.x + i * bw + gap / 2)}" y="${px(f.y + f.h - h)}" width="${px(bw - gap)}" height="${px(h)}">`;
    out += `<title>[${formatNumber(a, 4)}, ${formatNumber(b, 4)}${close}: ${counts[i]}</title></rect>`;
  }
  out += '</g>';
  const notes: string[] = [];
  if (outside > 0) notes.push(`${outside} outside the range`);
  if (nonFinite > 0) notes.push(`${nonFinite} non-finite`);
  if (values.length === 0) notes.push('no data');
  if (notes.length) out += footnote(f, `${notes.join(', ')} (not drawn)`);
  return out + '</svg>';
}

/** Options of {@link heatmap}. */
export interface HeatmapOptions {
  /** Labels of the rows (top to bottom) and columns (left to right); default their indices. */
  rowLabels?: string[];
  colLabels?: string[];
  /** Axis titles, e.g. 'predicted' (x) and 'true' (y) for a confusion matrix. */
  xLabel?: string;
  yLabel?: string;
  /** Default 'Heatmap'. */
  title?: string;
  /** Print each value in its cell. Default: true when the matrix has at most 400 cells. */
  annotate?: boolean;
  /**
   * Colour scale: 'linear' maps t = (v − min)/(max − min) onto the colours; 'sqrt' uses √t,
   * which shows small off-diagonal counts of a confusion matrix. Both are monotone. Default 'linear'.
   */
  scale?: 'linear' | 'sqrt';
  /** Side of a cell in pixels; default min(40, max(12, 400 / max(rows, cols))). */
  cellSize?: number;
}

// ColorBrewer "Blues" (9 classes): every channel falls monotonically, so luminance does too.
const BLUES: readonly (readonly [number, number, number])[] = [
  [0xf7, 0xfb, 0xff], [0xde, 0xeb, 0xf7], [0xc6, 0xdb, 0xef], [0x9e, 0xca, 0xe1], [0x6b, 0xae, 0xd6],
  [0x42, 0x92, 0xc6], [0x21, 0x71, 0xb5], [0x08, 0x51, 0x9c], [0x08, 0x30, 0x6b],
];

/**
 * The colour of t ∈ [0, 1] on the sequential Blues scale (light → dark), as '#rrggbb'.
 *
 * @example
 * ```ts
 * sequentialColor(0); // '#f7fbff'
 * sequentialColor(1); // '#08306b'
 * ```
 */
export function sequentialColor(t: number): string {
  const u = Math.min(1, Math.max(0, t)) * (BLUES.length - 1);
  const i = Math.min(BLUES.length - 2, Math.floor(u));
  const a = u - i;
  let s = '#';
  for (let c = 0; c < 3; c++) {
    const v = Math.round(BLUES[i][c] + (BLUES[i + 1][c] - BLUES[i][c]) * a);
    s += v.toString(16).padStart(2, '0');
  }
  return s;
}

/**
 * A heatmap of a rectangular matrix, e.g. a confusion matrix (rows = true class, columns =
 * predicted). Cells are `<rect class="cell">` in row-major order; darker means larger. Each cell
 * carries a tooltip with its row, column and value; a colour key sits on the right.
 *
 * @example
 * ```ts
 * const svg = heatmap([[50, 2], [3, 45]], { rowLabels: ['0', '1'], colLabels: ['0', '1'], xLabel: 'predicted', yLabel: 'true' });
 * ```
 */
export function heatmap(matrix: ReadonlyArray<ArrayLike<number>>, o: HeatmapOptions = {}): string {
  const op = 'heatmap';
  const rows = matrix.length;
  if (rows === 0) throw new ShapeError(`${op}: expected a matrix with at least one row, got none`);
  const cols = matrix[0].length;
  if (cols === 0) throw new ShapeError(`${op}: expected a matrix with at least one column, got an empty first row`);
  for (let i = 1; i < rows; i++) {
    if (matrix[i].length !== cols) throw new ShapeError(`${op}: rows must have equal lengths; row 0 has ${cols} values, row ${i} has ${matrix[i].length}`);
  }
  const rowLabels = o.rowLabels ?? Array.from({ length: rows }, (_, i) => String(i));
  const colLabels = o.colLabels ?? Array.from({ length: cols }, (_, j) => String(j));
  if (rowLabels.length !== rows) throw new ShapeError(`${op}: expected ${rows} row labels, got ${rowLabels.length}`);
  if (colLabels.length !== cols) throw new ShapeError(`${op}: expected ${cols} column labels, got ${colLabels.length}`);
  const scale = o.scale ?? 'linear';
  if (scale !== 'linear' && scale !== 'sqrt') throw new OptionError(`${op}: scale must be 'linear' or 'sqrt', got '${String(scale)}'`);
  let lo = Infinity;
  let hi = -Infinity;
  for (const r of matrix) {
    for (let j = 0; j < cols; j++) {
      const v = r[j];
      if (!Number.isFinite(v)) throw new OptionError(`${op}: values must be finite, got ${v}`);
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  const norm = (v: number) => {
    const t = hi > lo ? (v - lo) / (hi - lo) : 0;
    return scale === 'sqrt' ? Math.sqrt(t) : t;
  };
  const cell = o.cellSize ?? Math.min(40, Math.max(12, Math.floor(400 / Math.max(rows, cols))));
  checkSize(op, 'cellSize', cell, 2);
  const annotate = o.annotate ?? rows * cols <= 400;
  const title = o.title ?? 'Heatmap';
  const labelW = Math.max(...rowLabels.map((l) => l.length)) * 7 + 10;
  const f: Frame = { x: (o.yLabel ? 24 : 4) + labelW, y: 34, w: cols * cell, h: rows * cell };
  const colLabelH = 18;
  const width = Math.ceil(f.x + f.w + 70);
  const height = Math.ceil(f.y + f.h + colLabelH + (o.xLabel ? 22 : 4));
  let out = svgOpen(width, height, title);
  if (o.title) out += `<text x="4" y="18" font-size="14" font-weight="600">${escapeXml(o.title)}</text>`;
  const fontSize = Math.max(7, Math.min(11, cell * 0.32));
  let cells = '';
  let texts = '';
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const v = matrix[i][j];
      const t = norm(v);
      const x = f.x + j * cell;
      const y = f.y + i * cell;
      cells += `<rect class="cell" x="${px(x)}" y="${px(y)}" width="${px(cell)}" height="${px(cell)}" fill="${sequentialColor(t)}">`;
      cells += `<title>${escapeXml(`${rowLabels[i]} → ${colLabels[j]}: ${formatNumber(v, 4)}`)}</title></rect>`;
      if (annotate) {
        texts += `<text x="${px(x + cell / 2)}" y="${px(y + cell / 2 + fontSize * 0.35)}"${t > 0.55 ? ' fill="#ffffff"' : ''}>${escapeXml(formatNumber(v, 3))}</text>`;
      }
    }
  }
  out += cells;
  if (texts) out += `<g text-anchor="middle" font-size="${px(fontSize)}">${texts}</g>`;
  out += `<rect class="plot-area" x="${px(f.x)}" y="${px(f.y)}" width="${px(f.w)}" height="${px(f.h)}" fill="none" stroke="${FRAME}"/>`;
  let labels = `<g font-size="11" fill="${MUTED}">`;
  for (let i = 0; i < rows; i++) labels += `<text x="${px(f.x - 5)}" y="${px(f.y + (i + 0.5) * cell + 4)}" text-anchor="end">${escapeXml(rowLabels[i])}</text>`;
  for (let j = 0; j < cols; j++) labels += `<text x="${px(f.x + (j + 0.5) * cell)}" y="${px(f.y + f.h + 14)}" text-anchor="middle">${escapeXml(colLabels[j])}</text>`;
  out += labels + '</g>';
  if (o.xLabel) out += `<text x="${px(f.x + f.w / 2)}" y="${px(f.y + f.h + colLabelH + 16)}" text-anchor="middle">${escapeXml(o.xLabel)}</text>`;
  if (o.yLabel) {
    const cx = 12;
    const cy = f.y + f.h / 2;
    out += `<text x="${px(cx)}" y="${px(cy)}" text-anchor="middle" transform="rotate(-90 ${px(cx)} ${px(cy)})">${escapeXml(o.yLabel)}</text>`;
  }
  // Colour key: 16 steps from the largest value (top) to the smallest (bottom).
  const kx = f.x + f.w + 14;
  const kh = Math.min(f.h, 160);
  let key = '<g class="key">';
  for (let s = 0; s < 16; s++) {
    const t = 1 - s / 15;
    key += `<rect x="${px(kx)}" y="${px(f.y + (s * kh) / 16)}" width="12" height="${px(kh / 16 + 0.3)}" fill="${sequentialColor(t)}"/>`;
  }
  key += `<text x="${px(kx + 16)}" y="${px(f.y + 9)}" font-size="10" fill="${MUTED}">${escapeXml(formatNumber(hi, 3))}</text>`;
  key += `<text x="${px(kx + 16)}" y="${px(f.y + kh)}" font-size="10" fill="${MUTED}">${escapeXml(formatNumber(lo, 3))}</text>`;
  out += key + '</g>';
  return out + '</svg>';
}

/** Options of {@link scatter}. */
export interface ScatterOptions {
  /** Default 'Scatter plot'. */
  title?: string;
  /** Draw at most this many points, evenly spaced through the input order: indices ⌊k·n/m⌋. Default 2000. */
  maxPoints?: number;
  /** Legend names per class label (index = label); default the label itself. */
  classNames?: string[];
  xLabel?: string;
  yLabel?: string;
  /** Pixels; defaults 520 × 420. */
  width?: number;
  height?: number;
}

/**
 * A scatter plot of 2-D points coloured by integer class label (Tableau 10; label l gets colour
 * l mod 10), with a legend of the classes drawn. Each point is a round dot (a zero-length
 * subpath with a round cap), one `<path class="points">` per class. Above `maxPoints` it draws a
 * deterministic, evenly spaced subsample and says so in a note.
 *
 * @example
 * ```ts
 * const svg = scatter([0, 0, 1, 1, 2, 0], [0, 1, 1], { title: 'PCA' }); // points (0,0), (1,1), (2,0)
 * ```
 */
export function scatter(points: ArrayLike<number>, labels: ArrayLike<number>, o: ScatterOptions = {}): string {
  const op = 'scatter';
  const n = labels.length;
  if (points.length !== 2 * n) throw new ShapeError(`${op}: expected points [n, 2] = ${2 * n} values for ${n} labels, got ${points.length}`);
  const maxPoints = o.maxPoints ?? 2000;
  if (!Number.isSafeInteger(maxPoints) || maxPoints < 1) throw new OptionError(`${op}: maxPoints must be an integer ≥ 1, got ${maxPoints}`);
  const width = checkSize(op, 'width', o.width ?? 520, 160);
  const height = checkSize(op, 'height', o.height ?? 420, 120);
  const title = o.title ?? 'Scatter plot';
  for (let i = 0; i < n; i++) {
    const l = labels[i];
    if (!Number.isSafeInteger(l) || l < 0) throw new OptionError(`${op}: labels must be non-negative integers, got ${l} at index ${i}`);
    if (!Number.isFinite(points[2 * i]) || !Number.isFinite(points[2 * i + 1])) {
      throw new OptionError(`${op}: points must be finite, got (${points[2 * i]}, ${points[2 * i + 1]}) at index ${i}`);
    }
  }
  const m = Math.min(n, maxPoints);
  const pick = new Int32Array(m);
  for (let k = 0; k < m; k++) pick[k] = Math.floor((k * n) / m);
  let x0 = Infinity;
  let x1 = -Infinity;
  let y0 = Infinity;
  let y1 = -Infinity;
  for (let k = 0; k < m; k++) {
    const i = pick[k];
    x0 = Math.min(x0, points[2 * i]);
    x1 = Math.max(x1, points[2 * i]);
    y0 = Math.min(y0, points[2 * i + 1]);
    y1 = Math.max(y1, points[2 * i + 1]);
  }
  if (m === 0) {
    x0 = y0 = 0;
    x1 = y1 = 1;
  }
  // Pad by 4 % so edge dots are not cut in half.
  const padX = x1 > x0 ? (x1 - x0) * 0.04 : 0.5;
  const padY = y1 > y0 ? (y1 - y0) * 0.04 : 0.5;
  x0 -= padX;
  x1 += padX;
  y0 -= padY;
  y1 += padY;
  const classes = [...new Set(Array.from(pick, (i) => labels[i]))].sort((a, b) => a - b);
  const names = classes.map((c) => o.classNames?.[c] ?? String(c));
  const legendW = Math.max(40, 30 + Math.max(0, ...names.map((s) => s.length)) * 7);
  const f: Frame = { x: 56, y: 34, w: 0, h: 0 };
  f.w = width - f.x - legendW - 8;
  f.h = height - f.y - 44;
  const xPos = (v: number) => f.x + ((v - x0) / (x1 - x0)) * f.w;
  const yPos = (v: number) => f.y + f.h - ((v - y0) / (y1 - y0)) * f.h;
  let out = svgOpen(width, height, title);
  out += axes(f, linearTicks(x0, x1, Math.max(2, Math.round(f.w / 80))), xPos, linearTicks(y0, y1, Math.max(2, Math.round(f.h / 60))), yPos, { title: o.title ?? '', xLabel: o.xLabel, yLabel: o.yLabel });
  const paths = new Map<number, string>();
  for (const c of classes) paths.set(c, '');
  for (let k = 0; k < m; k++) {
    const i = pick[k];
    paths.set(labels[i], paths.get(labels[i]) + `M${px(xPos(points[2 * i]))} ${px(yPos(points[2 * i + 1]))}h0`);
  }
  for (const c of classes) {
    out += `<path class="points" data-label="${c}" d="${paths.get(c)}" stroke="${TABLEAU10[c % 10]}" stroke-width="5" stroke-linecap="round" stroke-opacity="0.75"/>`;
  }
  let lg = '<g class="legend" font-size="11">';
  classes.forEach((c, k) => {
    const y = f.y + 8 + k * 17;
    lg += `<circle cx="${px(f.x + f.w + 16)}" cy="${px(y)}" r="4.5" fill="${TABLEAU10[c % 10]}"/>`;
    lg += `<text x="${px(f.x + f.w + 26)}" y="${px(y + 4)}">${escapeXml(names[k])}</text>`;
  });
  out += lg + '</g>';
  if (m < n) out += footnote(f, `${m} of ${n} points drawn`);
  else if (n === 0) out += note(f, 'no data');
  return out + '</svg>';
}
