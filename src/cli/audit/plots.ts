/**
 * The report's summary plots as inline SVG, drawn here from the numbers: no chart library,
 * nothing to load, and they print. Colours are the Okabe-Ito pair (blue, orange), told apart
 * with colour blindness too; every bar has a <title> for its exact figure.
 */
import type { AuditRecord } from './record';
import type { BatchSummary } from './summary';

const BLUE = '#0072B2';
const ORANGE = '#E69F00';
const GREY = '#999999';

export const escapeXml = (s: string) => s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' })[c] as string);

const r1 = (v: number) => Math.round(v * 10) / 10;

/** Top-1 confidence in ten bins; with ground truth, each bin split into right and wrong. */
export function confidenceHistogram(records: AuditRecord[]): string {
  const ok = records.filter((r) => r.ok && r.predictions?.length);
  const bins = Array.from({ length: 10 }, () => ({ right: 0, wrong: 0, unknown: 0 }));
  for (const r of ok) {
    const p = r.predictions![0].probability;
    const b = bins[Math.min(9, Math.floor(p * 10))];
    if (r.truth === undefined) b.unknown++;
    else if (r.correct) b.right++;
    else b.wrong++;
  }
  const hasTruth = ok.some((r) => r.truth !== undefined);
  const max = Math.max(1, ...bins.map((b) => b.right + b.wrong + b.unknown));
  const W = 360, H = 200, left = 36, bottom = 28, top = 10, plotH = H - top - bottom, bw = (W - left - 8) / 10;
  const parts: string[] = [];
  bins.forEach((b, i) => {
    const x = left + i * bw + 1;
    let y = top + plotH;
    const range = `${(i / 10).toFixed(1)}-${((i + 1) / 10).toFixed(1)}`;
    for (const [count, colour, what] of [[b.unknown, BLUE, 'images'], [b.right, BLUE, 'right'], [b.wrong, ORANGE, 'wrong']] as const) {
      if (!count) continue;
      const h = (plotH * count) / max;
      y -= h;
      parts.push(`<rect x="${r1(x)}" y="${r1(y)}" width="${r1(bw - 2)}" height="${r1(h)}" fill="${colour}"><title>${range}: ${count} ${what}</title></rect>`);
    }
  });
  const axis = [
    `<line x1="${left}" y1="${top + plotH}" x2="${W - 8}" y2="${top + plotH}" stroke="#333"/>`,
    ...[0, 0.5, 1].map((v) => `<text x="${r1(left + v * (W - left - 8))}" y="${H - 10}" text-anchor="middle">${v}</text>`),
    `<text x="${left - 4}" y="${top + 8}" text-anchor="end">${max}</text>`,
    `<text x="${left - 4}" y="${top + plotH}" text-anchor="end">0</text>`,
  ];
  const legend = hasTruth
    ? `<rect x="${W - 130}" y="${top}" width="10" height="10" fill="${BLUE}"/><text x="${W - 116}" y="${top + 9}">right</text><rect x="${W - 70}" y="${top}" width="10" height="10" fill="${ORANGE}"/><text x="${W - 56}" y="${top + 9}">wrong</text>`
    : '';
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="Histogram of the top class's probability over ${ok.length} images" font-size="11" font-family="sans-serif">${parts.join('')}${axis.join('')}${legend}</svg>`;
}

/** With ground truth: accuracy per true class; without: how often each class came first. */
export function classBars(summary: BatchSummary): string {
  const rows = summary.perClass.length
    ? summary.perClass.map((c) => ({ label: c.truth, value: c.correct / c.total, text: `${c.correct}/${c.total}`, colour: BLUE }))
    : summary.predicted.slice(0, 30).map((p) => ({ label: p.label, value: p.count / Math.max(1, summary.predicted[0]?.count ?? 1), text: String(p.count), colour: GREY }));
  const W = 360, rowH = 18, left = 120, right = 60, top = 4;
  const H = top + rowH * Math.max(1, rows.length) + 4;
  const bw = W - left - right;
  const what = summary.perClass.length ? 'Accuracy per true class' : 'Images per predicted class';
  const bars = rows.map((r, i) => {
    const y = top + i * rowH;
    const name = r.label.length > 18 ? `${r.label.slice(0, 17)}…` : r.label;
    return `<text x="${left - 6}" y="${y + 13}" text-anchor="end">${escapeXml(name)}</text>`
      + `<rect x="${left}" y="${y + 3}" width="${bw}" height="${rowH - 6}" fill="#eee"/>`
      + `<rect x="${left}" y="${y + 3}" width="${r1(bw * r.value)}" height="${rowH - 6}" fill="${r.colour}"><title>${escapeXml(r.label)}: ${r.text}</title></rect>`
      + `<text x="${left + bw + 6}" y="${y + 13}">${r.text}</text>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${what}" font-size="11" font-family="sans-serif">${bars.join('')}</svg>`;
}
