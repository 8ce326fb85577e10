/** The run report (self-contained HTML with SVG charts), 2-D PCA, and terminal progress output. */
export { lineChart, raster, histogram, histogramCounts, heatmap, scatter, escapeXml, sequentialColor, TABLEAU10 } from './svg';
export type { LineSeries, LineChartOptions, RasterSpikes, RasterOptions, HistogramOptions, HeatmapOptions, ScatterOptions } from './svg';
export { pca2 } from './pca';
export type { Pca2Options, Pca2Result } from './pca';
export { renderReportHtml } from './html';
export type { RunReport, ReportRaster } from './html';
export { formatProgress, formatTaskProgress, formatTable, formatDuration } from './progress';
export type { Progress, ProgressFormatOptions, TaskProgress } from './progress';
