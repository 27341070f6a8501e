/** Counts over a batch's records: what the summary prints and the report plots. */
import type { AuditRecord } from './record';

export interface ClassAccuracy {
  truth: string;
  total: number;
  correct: number;
}

export interface BatchSummary {
  total: number;
  explained: number;
  failed: AuditRecord[];
  /** Explained images with a known class. */
  withTruth: number;
  correct: number;
  /** By true class, in name order. */
  perClass: ClassAccuracy[];
  /** Explained images by top-1 class, most frequent first. */
  predicted: Array<{ label: string; count: number }>;
}

export function summarize(records: AuditRecord[]): BatchSummary {
  const ok = records.filter((r) => r.ok);
  const classes = new Map<string, ClassAccuracy>();
  const predicted = new Map<string, number>();
  let withTruth = 0;
  let correct = 0;
  for (const r of ok) {
    const top = r.predictions?.[0]?.label ?? '?';
    predicted.set(top, (predicted.get(top) ?? 0) + 1);
    if (r.truth === undefined) continue;
    withTruth++;
    if (r.correct) correct++;
    const c = classes.get(r.truth) ?? { truth: r.truth, total: 0, correct: 0 };
    c.total++;
    if (r.correct) c.correct++;
    classes.set(r.truth, c);
  }
  return {
    total: records.length,
    explained: ok.length,
    failed: records.filter((r) => !r.ok),
    withTruth,
    correct,
    perClass: [...classes.values()].sort((a, b) => (a.truth < b.truth ? -1 : a.truth > b.truth ? 1 : 0)),
    predicted: [...predicted.entries()].map(([label, count]) => ({ label, count })).sort((a, b) => b.count - a.count || (a.label < b.label ? -1 : 1)),
  };
}

export const percent = (n: number, d: number) => (d ? `${((100 * n) / d).toFixed(1)}%` : '-');
