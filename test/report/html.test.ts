import { describe, expect, it } from 'vitest';
import { OptionError, ShapeError, renderReportHtml } from '../../src/index';
import type { RunReport } from '../../src/index';
import { sampleReport } from './sample';
import { byClass, findAll, parseXml, textOf } from './xml';

describe('renderReportHtml', () => {
  const report = sampleReport();
  const html = renderReportHtml(report);
  const doc = parseXml(html, { doctype: true });

  it('is one well-formed, self-contained, small page', () => {
    expect(doc.name).toBe('html');
    expect(html).not.toMatch(/<script|<link|<img|<iframe|src=|href=|@import|url\(/i);
    // The only URL is the SVG namespace.
    expect(html.match(/https?:\/\/[^"]*/g)!.every((u) => u === 'http://www.w3.org/2000/svg')).toBe(true);
    expect(html.length).toBeLessThan(300_000);
    // Loss, 2 views, 2 hidden layers, histogram, PCA, confusion: 8 figures, each with a title.
    const svgs = findAll(doc, (e) => e.name === 'svg');
    expect(svgs).toHaveLength(8);
    for (const s of svgs) expect(s.children[0].name).toBe('title');
    expect(findAll(doc, (e) => e.name === 'figcaption').length).toBeGreaterThanOrEqual(4);
  });

  it('escapes the run name and shows the accuracy table in percent with 2 decimals', () => {
    expect(html).not.toContain('<R1>');
    expect(textOf(findAll(doc, (e) => e.name === 'h1')[0])).toBe(report.name);
    expect(textOf(findAll(doc, (e) => e.name === 'title')[0])).toBe(`spikessl run — ${report.name}`);
    const rows = findAll(findAll(doc, (e) => e.name === 'table')[0], (e) => e.name === 'tr').map((tr) => tr.children.map(textOf));
    expect(rows).toEqual([
      ['representation', 'linear probe', 'kNN'],
      ['SSL encoder', '94.12 %', '95.68 %'],
      ['random-init encoder', '35.12 %', '26.34 %'],
      ['raw pixels', '92.13 %', '96.95 %'],
    ]);
  });

  it('draws one mark per spike in each raster and one cell per confusion entry', () => {
    const spikes = findAll(doc, byClass('spikes'));
    const rasters = [...report.sample.views, ...report.sample.layers];
    expect(spikes).toHaveLength(rasters.length);
    spikes.forEach((p, k) => expect((p.attrs.d.match(/M/g) ?? []).length).toBe(rasters[k].data.reduce((a, b) => a + b, 0)));
    expect(findAll(doc, byClass('cell'))).toHaveLength(100);
    expect(findAll(doc, byClass('bar'))).toHaveLength(40);
  });

  it('shows the config, per-epoch densities and timings', () => {
    const text = textOf(doc);
    expect(text).toContain('barlow');
    expect(text).toContain('[784,512,512]');
    expect(text).toContain('density lif2');
    expect(text).toContain('13.1 %'); // input density of every epoch
    expect(text).toContain('8m 09s'); // total 489.3 s
    expect(text).toContain(`PC 1 explains ${(report.pca.explained[0] * 100).toFixed(1)} %`);
  });

  it('escapes hostile strings everywhere they appear', () => {
    const evil = '<img src=x onerror="alert(1)">&amp;';
    const r: RunReport = {
      ...report,
      name: evil,
      config: { [evil]: evil, nested: { evil } },
      accuracy: [{ model: evil, linear: 0.5, knn: 0.25 }],
      layerNames: ['input', evil, 'lif2'],
      confusion: { ...report.confusion, model: evil, labels: report.confusion.labels.map((l) => l + evil) },
      sample: { ...report.sample, layers: report.sample.layers.map((l) => ({ ...l, name: evil })) },
      timings: { [evil]: 3 },
    };
    const out = renderReportHtml(r);
    const d = parseXml(out, { doctype: true });
    expect(findAll(d, (e) => e.name === 'img')).toHaveLength(0);
    expect(out).not.toContain('<img');
    expect(textOf(d)).toContain(evil);
  });

  it('renders a report without training or evaluation data, saying what is missing', () => {
    const empty: RunReport = {
      name: 'eval-only',
      createdAt: '2025-01-01T00:00:00Z',
      config: {},
      seed: 0,
      batchLoss: [],
      epochs: [],
      layerNames: [],
      accuracy: [{ model: 'SSL encoder', linear: NaN, knn: null as unknown as number }],
      confusion: { labels: [], matrix: [], model: '' },
      sample: { label: 0, views: [], layers: [] },
      firingRates: [],
      pca: { points: [], labels: [], explained: [0, 0] },
      timings: {},
    };
    const out = renderReportHtml(empty);
    const d = parseXml(out, { doctype: true });
    expect(findAll(d, (e) => e.name === 'svg')).toHaveLength(0);
    expect(findAll(d, byClass('empty')).length).toBe(6); // loss, rasters, rates, confusion, PCA, timings
    expect(textOf(d)).toContain('n/a');
  });

  it('rejects accuracies that are not fractions and densities that do not match the layers', () => {
    expect(() => renderReportHtml({ ...report, accuracy: [{ model: 'x', linear: 94.1, knn: 0.9 }] })).toThrow(OptionError);
    expect(() => renderReportHtml({ ...report, layerNames: ['input'] })).toThrow(ShapeError);
  });
});
