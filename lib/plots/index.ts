export { lineChart, meanStdChart, type VegaLiteSpec, type Row, type LineChartOptions } from "./spec";
export { toSvg, toPng, saveChart } from "./render";
export { wrapTitle, withWrappedTitle, TITLE_LINE_CHARS } from "./title";
export { showChart, showSvg, showHtml, displayBundle, inNotebook, VEGALITE_MIME } from "./display";
export { danfo, toDataFrame, tableHtml, tableText, showTable } from "./table";
export { notebookProgress } from "./progress";
export * from "./analysis-charts";
export { planeChart, type PlaneChartOptions } from "./plane-chart";
export { intervalChart, type IntervalChartOptions } from "./interval-chart";
