import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OptionError, Rng, ShapeError, heatmap, histogram, lineChart, raster, scatter } from '../../src/index';
import { TABLEAU10, escapeXml } from '../../src/internals';
import { byClass, findAll, parseXml, pathPoints, textOf } from './xml';
import type { El } from './xml';

const nasty = '<b>"Q" & A\'s</b>';

function plotArea(svg: El): { x: number; y: number; w: number; h: number } {
  const [r] = findAll(svg, byClass('plot-area'));
  return { x: Number(r.attrs.x), y: Number(r.attrs.y), w: Number(r.attrs.width), h: Number(r.attrs.height) };
}

function titleOf(svg: El): string {
  expect(svg.name).toBe('svg');
  expect(svg.children[0].name).toBe('title');
  return textOf(svg.children[0]);
}

/** WCAG relative luminance of '#rrggbb'. */
function luminance(hex: string): number {
  const lin = (c: number) => {
    const s = c / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  const v = [1, 3, 5].map((k) => lin(parseInt(hex.slice(k, k + 2), 16)));
  return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2];
}

// Coordinates are rounded to 0.1 px: a point and the plot-area edges are each off by ≤ 0.05.
const TOL = 0.11;

describe('escapeXml', () => {
  it('escapes the five special characters', () => {
    expect(escapeXml(`a<b & "c" 'd' >`)).toBe('a&lt;b &amp; &quot;c&quot; &#39;d&#39; &gt;');
    expect(escapeXml('plain')).toBe('plain');
  });
});

describe('every chart is well-formed XML and escapes its strings', () => {
  const str = fc.string({ unit: fc.constantFrom('a', 'Z', ' ', '<', '>', '&', '"', "'", '/', '=', ';', 'é', '→'), maxLength: 12 });
  it('for random titles and labels', () => {
    fc.assert(
      fc.property(str, str, str, (title, a, b) => {
        const charts = [
          lineChart([{ name: a, y: [1, 2, 3] }, { name: b, y: [2, 1] }], { title, xLabel: a, yLabel: b }),
          raster({ data: [0, 1, 1, 0], steps: 2, neurons: 2 }, { title }),
          histogram([1, 2, 2, 3], { title, xLabel: a }),
          heatmap([[1, 2], [3, 4]], { title, rowLabels: [a, b], colLabels: [b, a], xLabel: a, yLabel: b }),
          scatter([0, 0, 1, 1], [0, 1], { title, classNames: [a, b], xLabel: a }),
        ];
        for (const s of charts) {
          const svg = parseXml(s);
          expect(titleOf(svg)).toBe(title);
          expect(svg.attrs.xmlns).toBe('http://www.w3.org/2000/svg');
          expect(s).not.toMatch(/<script|href=|url\(/);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('a title with markup comes back as text, never as an element', () => {
    const svg = parseXml(heatmap([[1]], { title: nasty, rowLabels: [nasty], colLabels: [nasty] }));
    expect(titleOf(svg)).toBe(nasty);
    expect(findAll(svg, (e) => e.name === 'b')).toHaveLength(0);
    expect(textOf(svg)).toContain(nasty);
  });
});

describe('lineChart', () => {
  const finite = fc.double({ min: -1e6, max: 1e6, noNaN: true });
  it('maps the data min/max onto the plot edges and every point affinely', () => {
    fc.assert(
      fc.property(fc.array(finite, { minLength: 2, maxLength: 60 }), fc.boolean(), (ys, withX) => {
        fc.pre(Math.min(...ys) < Math.max(...ys) - 1e-3);
        const xs = withX ? ys.map((_, i) => -3 + 0.5 * i * i) : ys.map((_, i) => i);
        const svg = parseXml(lineChart([{ name: 's', y: ys, x: withX ? xs : undefined }]));
        const f = plotArea(svg);
        const [path] = findAll(svg, byClass('series'));
        const pts = pathPoints(path.attrs.d).flat();
        expect(pts).toHaveLength(ys.length);
        const px = pts.map((p) => p[0]);
        const py = pts.map((p) => p[1]);
        expect(Math.abs(Math.min(...px) - f.x)).toBeLessThanOrEqual(TOL);
        expect(Math.abs(Math.max(...px) - (f.x + f.w))).toBeLessThanOrEqual(TOL);
        expect(Math.abs(Math.min(...py) - f.y)).toBeLessThanOrEqual(TOL); // largest y at the top edge
        expect(Math.abs(Math.max(...py) - (f.y + f.h))).toBeLessThanOrEqual(TOL);
        const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
        ys.forEach((y, i) => {
          expect(Math.abs(px[i] - (f.x + ((xs[i] - x0) / (x1 - x0)) * f.w))).toBeLessThanOrEqual(TOL);
          expect(Math.abs(py[i] - (f.y + f.h - ((y - y0) / (y1 - y0)) * f.h))).toBeLessThanOrEqual(TOL);
        });
      }),
      { numRuns: 100 },
    );
  });

  it('log scale: log10 of the values maps affinely; non-positive values throw', () => {
    const ys = [1000, 300, 120, 50, 20, 10, 2];
    const svg = parseXml(lineChart([{ name: 'loss', y: ys }], { logY: true }));
    const f = plotArea(svg);
    const pts = pathPoints(findAll(svg, byClass('series'))[0].attrs.d).flat();
    const [l0, l1] = [Math.log10(2), Math.log10(1000)];
    ys.forEach((y, i) => expect(Math.abs(pts[i][1] - (f.y + f.h - ((Math.log10(y) - l0) / (l1 - l0)) * f.h))).toBeLessThanOrEqual(TOL));
    expect(() => lineChart([{ name: 'a', y: [1, 0, 2] }], { logY: true })).toThrow(OptionError);
  });

  it('several series share one domain', () => {
    const svg = parseXml(lineChart([{ name: 'a', y: [0, 10] }, { name: 'b', y: [5, 20], x: [0.5, 4] }]));
    const f = plotArea(svg);
    const [a, b] = findAll(svg, byClass('series')).map((p) => pathPoints(p.attrs.d).flat());
    // x ∈ [0, 4], y ∈ [0, 20]
    expect(a[1][0]).toBeCloseTo(f.x + 0.25 * f.w, 0);
    expect(a[1][1]).toBeCloseTo(f.y + 0.5 * f.h, 0);
    expect(b[1][0]).toBeCloseTo(f.x + f.w, 0);
    expect(b[1][1]).toBeCloseTo(f.y, 0);
    expect(textOf(svg)).toContain('a');
  });

  it('a long series is thinned per pixel column but keeps its extremes and stays on the curve', () => {
    const rng = new Rng(3);
    const ys = Array.from({ length: 20000 }, (_, i) => Math.sin(i / 500) + 0.1 * rng.normal());
    const s = lineChart([{ name: 'long', y: ys }], { width: 400 });
    const svg = parseXml(s);
    const f = plotArea(svg);
    const pts = pathPoints(findAll(svg, byClass('series'))[0].attrs.d).flat();
    expect(pts.length).toBeLessThan(4 * 400);
    expect(s.length).toBeLessThan(40_000);
    const lo = Math.min(...ys);
    const hi = Math.max(...ys);
    expect(Math.abs(Math.min(...pts.map((p) => p[1])) - f.y)).toBeLessThanOrEqual(TOL);
    expect(Math.abs(Math.max(...pts.map((p) => p[1])) - (f.y + f.h))).toBeLessThanOrEqual(TOL);
    // Every drawn point is some data point: invert the x map and compare y.
    for (const [x, y] of pts) {
      const i = Math.round(((x - f.x) / f.w) * (ys.length - 1));
      const near = ys.slice(Math.max(0, i - 30), i + 31).map((v) => f.y + f.h - ((v - lo) / (hi - lo)) * f.h);
      expect(Math.min(...near.map((v) => Math.abs(v - y)))).toBeLessThanOrEqual(TOL);
    }
  });

  it('non-finite values leave a gap and are counted in a note', () => {
    const svg = parseXml(lineChart([{ name: 'a', y: [1, 2, NaN, 3, Infinity, 4] }]));
    const subs = pathPoints(findAll(svg, byClass('series'))[0].attrs.d);
    // Three runs: [1, 2], [3], [4]; a lone point is drawn as a zero-length segment ('h0').
    expect(subs).toHaveLength(3);
    expect(subs[0][0]).not.toEqual(subs[0][1]);
    expect(subs[1][0]).toEqual(subs[1][1]);
    expect(subs[2][0]).toEqual(subs[2][1]);
    expect(textOf(svg)).toContain('2 non-finite values not drawn');
  });

  it('rejects bad input', () => {
    expect(() => lineChart([])).toThrow(OptionError);
    expect(() => lineChart([{ name: 'a', y: [1, 2], x: [1] }])).toThrow(ShapeError);
    expect(() => lineChart([{ name: 'a', y: [1] }], { width: 10 })).toThrow(OptionError);
  });
});

describe('raster', () => {
  it('draws exactly one mark per spike, at its step and neuron', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 60 }), fc.integer(), (steps, neurons, seed) => {
        const rng = new Rng(seed);
        const data = Array.from({ length: steps * neurons }, () => (rng.uniform() < 0.3 ? 1 : 0));
        const svg = parseXml(raster({ data, steps, neurons }));
        const marks = findAll(svg, byClass('spikes')).flatMap((p) => pathPoints(p.attrs.d));
        const expected = new Set<string>();
        data.forEach((v, k) => v && expected.add(`${Math.floor(k / neurons)},${k % neurons}`));
        expect(marks).toHaveLength(expected.size);
        const f = plotArea(svg);
        const got = new Set(marks.map(([[x0, y], [x1]]) => `${Math.floor(((x0 + x1) / 2 - f.x) / (f.w / steps))},${Math.floor((y - f.y) / (f.h / neurons))}`));
        expect(got).toEqual(expected);
      }),
      { numRuns: 60 },
    );
  });

  it('8 × 784 input with 13 % density stays small', () => {
    const rng = new Rng(5);
    const data = Array.from({ length: 8 * 784 }, () => (rng.uniform() < 0.13 ? 1 : 0));
    const s = raster({ data, steps: 8, neurons: 784 });
    const spikes = data.reduce((a: number, b) => a + b, 0);
    expect(pathPoints(findAll(parseXml(s), byClass('spikes'))[0].attrs.d)).toHaveLength(spikes);
    expect(s.length).toBeLessThan(20 * spikes + 3000);
  });

  it('rejects a wrong length and non-binary values', () => {
    expect(() => raster({ data: [0, 1, 0], steps: 2, neurons: 2 })).toThrow(ShapeError);
    expect(() => raster({ data: [0, 1, 0.5, 0], steps: 2, neurons: 2 })).toThrow(OptionError);
    expect(() => raster({ data: [], steps: 0, neurons: 2 })).toThrow(ShapeError);
  });
});

describe('histogram', () => {
  /** Reference: bin i holds lo + (hi−lo)·i/bins ≤ v < lo + (hi−lo)·(i+1)/bins; the last bin also v = hi. */
  function referenceCounts(values: number[], bins: number, lo: number, hi: number): number[] {
    const edges = Array.from({ length: bins + 1 }, (_, i) => lo + ((hi - lo) * i) / bins);
    const counts = new Array(bins).fill(0);
    for (const v of values) {
      for (let i = 0; i < bins; i++) {
        if (v >= edges[i] && (v < edges[i + 1] || (i === bins - 1 && v <= hi))) {
          counts[i]++;
          break;
        }
      }
    }
    return counts;
  }

  function bars(svg: El): Array<{ count: number; height: number }> {
    return findAll(svg, byClass('bar')).map((b) => ({ count: Number(/: (\d+)$/.exec(textOf(b))![1]), height: Number(b.attrs.height) }));
  }

  it('bin counts equal a reference count loop; heights are proportional to them', () => {
    const values = fc.array(fc.oneof(fc.double({ min: -5, max: 5, noNaN: true }), fc.integer({ min: -5, max: 5 })), { minLength: 1, maxLength: 200 });
    fc.assert(
      fc.property(values, fc.integer({ min: 1, max: 25 }), fc.option(fc.tuple(fc.integer({ min: -6, max: 0 }), fc.integer({ min: 1, max: 6 }))), (vals, bins, range) => {
        let lo: number;
        let hi: number;
        if (range) [lo, hi] = range;
        else {
          lo = Math.min(...vals);
          hi = Math.max(...vals);
          if (lo === hi) [lo, hi] = [lo - 0.5, hi + 0.5];
        }
        const svg = parseXml(histogram(vals, { bins, range: range ?? undefined }));
        const got = bars(svg);
        const ref = referenceCounts(vals, bins, lo, hi);
        expect(got.map((b) => b.count)).toEqual(ref);
        const f = plotArea(svg);
        const max = Math.max(1, ...ref);
        got.forEach((b, i) => expect(Math.abs(b.height - (ref[i] / max) * f.h)).toBeLessThanOrEqual(TOL));
        const outside = vals.filter((v) => v < lo || v > hi).length;
        if (outside) expect(textOf(svg)).toContain(`${outside} outside the range`);
      }),
      { numRuns: 150 },
    );
  });

  it('a hand-counted example', () => {
    const svg = parseXml(histogram([0, 0.1, 0.5, 0.99, 1, 1.5, NaN], { bins: 2, range: [0, 1] }));
    expect(bars(svg).map((b) => b.count)).toEqual([2, 3]);
    expect(textOf(svg)).toContain('1 outside the range, 1 non-finite');
  });

  it('rejects bad options', () => {
    expect(() => histogram([1], { bins: 0 })).toThrow(OptionError);
    expect(() => histogram([1], { range: [1, 1] })).toThrow(OptionError);
  });
});

describe('heatmap', () => {
  it('cell colours get darker as values grow (both scales)', () => {
    const mat = fc.integer({ min: 1, max: 7 }).chain((r) => fc.integer({ min: 1, max: 7 }).chain((c) => fc.array(fc.array(fc.integer({ min: -50, max: 1000 }), { minLength: c, maxLength: c }), { minLength: r, maxLength: r })));
    fc.assert(
      fc.property(mat, fc.constantFrom('linear' as const, 'sqrt' as const), (m, scale) => {
        const svg = parseXml(heatmap(m, { scale }));
        const cells = findAll(svg, byClass('cell'));
        const vals = m.flat();
        expect(cells).toHaveLength(vals.length);
        const lum = cells.map((c) => luminance(c.attrs.fill));
        // Row-major order: each cell's tooltip names its value.
        cells.forEach((c, k) => expect(textOf(c)).toMatch(new RegExp(`: ${vals[k]}$`)));
        for (let a = 0; a < vals.length; a++) {
          for (let b = 0; b < vals.length; b++) if (vals[a] < vals[b]) expect(lum[a]).toBeGreaterThanOrEqual(lum[b]);
        }
        const lo = Math.min(...vals);
        const hi = Math.max(...vals);
        if (hi > lo) expect(lum[vals.indexOf(lo)]).toBeGreaterThan(lum[vals.indexOf(hi)] + 0.5);
      }),
      { numRuns: 80 },
    );
  });

  it('annotates cells and places them on a grid', () => {
    const svg = parseXml(heatmap([[5, 0], [1, 7]], { annotate: true, rowLabels: ['a', 'b'], colLabels: ['c', 'd'] }));
    const cells = findAll(svg, byClass('cell'));
    const f = plotArea(svg);
    expect(Number(cells[3].attrs.x)).toBeCloseTo(f.x + f.w / 2, 1);
    expect(Number(cells[3].attrs.y)).toBeCloseTo(f.y + f.h / 2, 1);
    const texts = findAll(svg, (e) => e.name === 'text').map(textOf);
    for (const v of ['5', '0', '1', '7', 'a', 'b', 'c', 'd']) expect(texts).toContain(v);
  });

  it('rejects ragged matrices, wrong label counts and non-finite values', () => {
    expect(() => heatmap([[1, 2], [3]])).toThrow(ShapeError);
    expect(() => heatmap([])).toThrow(ShapeError);
    expect(() => heatmap([[1, 2]], { colLabels: ['a'] })).toThrow(ShapeError);
    expect(() => heatmap([[1, NaN]])).toThrow(OptionError);
  });
});

describe('scatter', () => {
  it('draws min(n, maxPoints) dots, evenly spaced, coloured by class, inside the plot', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 400 }), fc.integer({ min: 1, max: 300 }), fc.integer(), (n, maxPoints, seed) => {
        const rng = new Rng(seed);
        const pts = Array.from({ length: 2 * n }, () => rng.normal() * 10);
        const labels = Array.from({ length: n }, () => rng.int(0, 12));
        const svg = parseXml(scatter(pts, labels, { maxPoints }));
        const m = Math.min(n, maxPoints);
        const expected = new Map<number, number>();
        for (let k = 0; k < m; k++) {
          const l = labels[Math.floor((k * n) / m)];
          expected.set(l, (expected.get(l) ?? 0) + 1);
        }
        const paths = findAll(svg, byClass('points'));
        const got = new Map(paths.map((p) => [Number(p.attrs['data-label']), pathPoints(p.attrs.d).length]));
        expect(got).toEqual(expected);
        const f = plotArea(svg);
        for (const p of paths) {
          expect(p.attrs.stroke).toBe(TABLEAU10[Number(p.attrs['data-label']) % 10]);
          for (const [[x, y]] of pathPoints(p.attrs.d)) {
            expect(x).toBeGreaterThanOrEqual(f.x);
            expect(x).toBeLessThanOrEqual(f.x + f.w);
            expect(y).toBeGreaterThanOrEqual(f.y);
            expect(y).toBeLessThanOrEqual(f.y + f.h);
          }
        }
        if (m < n) expect(textOf(svg)).toContain(`${m} of ${n} points drawn`);
      }),
      { numRuns: 60 },
    );
  });

  it('uses the Tableau 10 colours and caps 10,000 points at 2,000 by default in a small file', () => {
    expect(TABLEAU10.slice(0, 3)).toEqual(['#4e79a7', '#f28e2b', '#e15759']);
    const rng = new Rng(9);
    const n = 10_000;
    const s = scatter(Array.from({ length: 2 * n }, () => rng.normal()), Array.from({ length: n }, (_, i) => i % 10));
    const dots = findAll(parseXml(s), byClass('points')).reduce((a, p) => a + pathPoints(p.attrs.d).length, 0);
    expect(dots).toBe(2000);
    expect(s.length).toBeLessThan(40_000);
  });

  it('rejects mismatched shapes and bad labels', () => {
    expect(() => scatter([0, 0, 1], [0, 1])).toThrow(ShapeError);
    expect(() => scatter([0, 0], [-1])).toThrow(OptionError);
    expect(() => scatter([0, 0], [0.5])).toThrow(OptionError);
    expect(() => scatter([0, NaN], [0])).toThrow(OptionError);
  });
});
