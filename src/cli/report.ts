/** What `whycam explain` prints and the shape of its --json file. Pure functions, no I/O. */
import type { Prediction } from '../explainer';
import type { Fit, Region } from '../image/fit';
import type { MethodName, SaliencyMap } from '../methods/types';
import type { TrustReport } from '../trust/evaluate';

export interface JsonMap {
  width: number;
  height: number;
  channels: number;
  /** Target layer of class maps and Guided Grad-CAM; null for pure gradient maps. */
  layer: string | null;
  /** Raw signed values, row-major HWC (`data[(y * width + x) * channels + c]`). */
  data: Array<number | null>;
  /** Figures the method reports about its map (Integrated Gradients: completenessGap, scoreDelta, ...). */
  stats?: Record<string, number>;
}

/**
 * The --json file. `skipped` is always present ({} when every requested method ran), so a
 * reader never has to test for the key; a method is in exactly one of `maps` and `skipped`.
 */
export interface JsonReport {
  predictions: Prediction[];
  class: number;
  /** How the photo was fitted to the model input, and the rectangle of it (in its pixels) the input covers. */
  fit: Fit;
  region: Region;
  maps: Partial<Record<MethodName, JsonMap>>;
  skipped: Partial<Record<MethodName, string>>;
  /** With --metrics: deletion/insertion curves per map, the random-order reference, the sanity steps. */
  trust?: TrustReport;
}

/**
 * The engine's values are float32; 9 significant digits always round-trip a float32
 * (Math.fround(parsed) === original) while avoiding the 17-digit float64 expansions that
 * would double the file size. Non-finite values (never expected) become null, as JSON has no NaN.
 */
export function float32ToJson(data: Float32Array): Array<number | null> {
  const out = new Array<number | null>(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    out[i] = Number.isFinite(v) ? Number(v.toPrecision(9)) : null;
  }
  return out;
}

export function jsonReport(
  predictions: Prediction[],
  classIndex: number,
  methods: MethodName[],
  maps: Partial<Record<MethodName, SaliencyMap>>,
  skipped: Partial<Record<MethodName, string>>,
  seen: { fit: Fit; region: Region },
  trust: TrustReport | null = null,
): JsonReport {
  const report: JsonReport = {
    predictions: predictions.map(({ index, label, probability }) => ({ index, label, probability })),
    class: classIndex,
    fit: seen.fit,
    region: seen.region,
    maps: {},
    skipped: {},
  };
  for (const m of methods) {
    const map = maps[m];
    if (map) {
      report.maps[m] = { width: map.width, height: map.height, channels: map.channels, layer: map.layer, data: float32ToJson(map.data) };
      if (map.stats) report.maps[m]!.stats = map.stats;
    } else {
      report.skipped[m] = skipped[m] ?? 'not computed';
    }
  }
  if (trust) report.trust = trust;
  return report;
}

/** Right-aligns numbers and left-aligns text under a header, two spaces between columns. */
export function table(header: string[], rows: string[][], rightAligned: boolean[]): string[] {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) =>
    cells.map((s, c) => (rightAligned[c] ? s.padStart(widths[c]) : s.padEnd(widths[c]))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)];
}

/** Four decimals, but a tiny probability keeps its order of magnitude instead of reading 0.0000. */
export function formatProbability(p: number): string {
  return p >= 0.0001 || p === 0 ? p.toFixed(4) : p.toExponential(1);
}

export function predictionLines(predictions: Prediction[], classIndex: number): string[] {
  const rows = predictions.map((p, i) => [
    String(i + 1),
    String(p.index),
    p.label,
    formatProbability(p.probability),
    p.index === classIndex ? '<- explained' : '',
  ]);
  return table(['rank', 'index', 'class', 'probability', ''], rows, [true, true, false, true, false]).map((l) => `  ${l}`);
}

export function shapeText(width: number, height: number, channels: number): string {
  return channels === 1 ? `${width}x${height}` : `${width}x${height}x${channels}`;
}
