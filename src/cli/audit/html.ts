/**
 * The report page: one self-contained index.html (styles, script, data and plots inline; the
 * pictures are files in images/ beside it), so it opens from file:// with no server and no network.
 * The page is a function of the records alone (sorted by path, no dates, no timings): a merged
 * report of shards is byte for byte the report of one unsharded run.
 */
import { readFileSync } from 'fs';
import * as path from 'path';
import { getMethod, isMethodName } from '../../methods/registry';
import { classBars, confidenceHistogram, escapeXml } from './plots';
import { byPath, type AuditRecord } from './record';
import { percent, summarize } from './summary';

const asset = (name: string) => readFileSync(path.join(__dirname, name), 'utf8');

/** Methods skipped on every image for one same reason (CAM on a head it does not fit): said once, not on every card. */
function skippedEverywhere(records: AuditRecord[]): Map<string, string> {
  const ok = records.filter((r) => r.ok);
  const out = new Map<string, string>();
  for (const [m, why] of Object.entries(ok[0]?.skipped ?? {})) {
    if (why !== undefined && ok.every((r) => r.skipped?.[m as keyof typeof r.skipped] === why)) out.set(m, why);
  }
  return out;
}

/** What the page's script reads: the records without what differs from run to run. */
function pageEntry(r: AuditRecord, common: Map<string, string>) {
  const { ms: _ms, overlays: _overlays, model: _model, ...entry } = r;
  if (entry.skipped) entry.skipped = Object.fromEntries(Object.entries(entry.skipped).filter(([m]) => !common.has(m)));
  return entry;
}

/** JSON inside <script>: '<' escaped so no value can close the element. */
const scriptJson = (v: unknown) => JSON.stringify(v).replace(/</g, '\\u003c');

export function reportHtml(input: AuditRecord[]): string {
  const records = [...input].sort(byPath);
  const s = summarize(records);
  const methodNames: string[] = [];
  for (const r of records) for (const m of Object.keys(r.images?.maps ?? {})) if (!methodNames.includes(m)) methodNames.push(m);
  const methods = methodNames.map((name) => ({ name, label: isMethodName(name) ? getMethod(name).label : name }));
  const models = [...new Set(records.map((r) => r.model))];
  const hasTruth = s.withTruth > 0;
  const common = skippedEverywhere(records);
  const facts = [
    `${s.total} images`,
    `${s.explained} explained`,
    `${s.failed.length} failed`,
    ...(hasTruth ? [`accuracy ${s.correct}/${s.withTruth} (${percent(s.correct, s.withTruth)})`] : []),
    `model ${models.join(', ')}`,
  ].map(escapeXml).join(' · ');
  const failures = s.failed.length
    ? `<details class="failures"><summary>${s.failed.length} failed</summary><ul>${s.failed.map((r) => `<li>${escapeXml(r.path)}: ${escapeXml(r.error?.code ?? '')} ${escapeXml(r.error?.message ?? '')}</li>`).join('')}</ul></details>`
    : '';
  const data = { methods, hasTruth, entries: records.map((r) => pageEntry(r, common)) };
  const skipped = [...common].map(([m, why]) => `<p class="skipped">${escapeXml(isMethodName(m) ? getMethod(m).label : m)} skipped on every image: ${escapeXml(why)}</p>`).join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>whycam audit: ${s.total} images</title>
<style>
${asset('page.css')}</style>
</head>
<body>
<header>
<h1>whycam audit</h1>
<p class="facts">${facts}</p>
${skipped}
</header>
<section class="plots" aria-label="Summary">
<div class="plot"><h2>${hasTruth ? 'Accuracy per class' : 'Top class'}</h2>${classBars(s)}</div>
<div class="plot"><h2>Confidence of the top class</h2>${confidenceHistogram(records)}</div>
</section>
${failures}
<form id="filters" onsubmit="return false">
<label>Predicted class <select id="f-class"><option value="">all</option></select></label>
<label>True class <select id="f-truth"><option value="">all</option></select></label>
<label>Confidence from <input id="f-min" type="number" min="0" max="1" step="0.05" placeholder="0"></label>
<label>to <input id="f-max" type="number" min="0" max="1" step="0.05" placeholder="1"></label>
<label class="check"><input id="f-wrong" type="checkbox"> misclassified only</label>
<label class="check"><input id="f-failed" type="checkbox"> failed only</label>
<label>Path contains <input id="f-text" type="search"></label>
<output id="count" aria-live="polite"></output>
</form>
<main id="grid"></main>
<button id="more" type="button" hidden>Show more</button>
<script type="application/json" id="whycam-data">${scriptJson(data)}</script>
<script>
${asset('page.js')}</script>
</body>
</html>
`;
}
