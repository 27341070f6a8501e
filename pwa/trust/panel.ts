/// <reference lib="dom" />
/**
 * "Can I trust this map?": on demand, for the map shown, the worker measures the deletion and
 * insertion curves against a random pixel order and runs the model-randomisation sanity check
 * (src/trust); the panel draws the curves, says the engine's one sentence and the sanity check's
 * outcome in a short line. Progress and cancel; a newer photo, class or map makes a result stale.
 */
import type { MethodProgress, TrustReport } from '../../worker/client';
import { errorMessage } from '../app/messages';
import { state } from '../app/state';
import { $, h } from '../dom';
import { methodLabel, type Method } from '../methods';
import { pixelsOf } from '../explain/picture';
import { curvePlot } from './plot';

/** The stages of a check, in the order the engine runs them, for one progress bar. */
const PHASES = ['deletion:random', 'insertion:random', 'deletion:map', 'insertion:map', 'sanity'];

/** Sanity steps: five for the one-pass maps, two for the sampled ones (each step recomputes the map). */
const SAMPLED: readonly Method[] = ['scorecam', 'smoothgrad', 'integrated-gradients'];

let running: { key: string; started: boolean } | null = null;
/** The map the panel's content (curves, sentence, or a message) is about. */
let contentKey: string | null = null;
let target: Method = 'gradcam';

function keyOf(m: Method): string {
  return `${document.documentElement.dataset.picture ?? ''}:${state.classIndex}:${m}:${m === 'layercam' ? state.layerCamLayer ?? '' : ''}`;
}

export function wireTrust(): void {
  $('trust-run').addEventListener('click', () => void check());
  $('trust-cancel').addEventListener('click', () => {
    // Still waiting for the default maps: those go on.
    if (running?.started) void state.client?.cancel();
    running = null;
    done('Cancelled. Run it again to measure.');
  });
}

/** Follows the map shown: the button names it, a result for another map is cleared. */
export function renderTrust(method: Method): void {
  target = method;
  const map = state.maps[method];
  const button = $<HTMLButtonElement>('trust-run');
  $('trust-for').textContent = map ? `for the ${methodLabel(method)} map of “${state.model?.labels[state.classIndex] ?? ''}”` : '(once a map is shown)';
  if (contentKey !== null && contentKey !== keyOf(method)) {
    // Another map is shown now: a check of the old one is of no use any more.
    if (running) {
      if (running.started) void state.client?.cancel();
      running = null;
      $('trust-progress').hidden = true;
      $('trust-cancel').hidden = true;
      document.documentElement.dataset.trust = 'idle';
    }
    contentKey = null;
    $('trust-plots').replaceChildren();
    $('trust-result').textContent = '';
    $('trust-sanity').textContent = '';
  }
  button.disabled = !map || running !== null;
}

function progress(p: MethodProgress): void {
  const phase = Math.max(0, PHASES.indexOf(p.method.startsWith('deletion:') || p.method.startsWith('insertion:')
    ? p.method.replace(/:(?!random).*$/, ':map') : p.method));
  const bar = $<HTMLProgressElement>('trust-progress');
  bar.value = (phase + p.done / Math.max(1, p.total)) / PHASES.length;
}

function done(message: string): void {
  $('trust-progress').hidden = true;
  $('trust-cancel').hidden = true;
  $('trust-result').textContent = message;
  document.documentElement.dataset.trust = 'idle';
  renderTrust(target);
}

async function check(): Promise<void> {
  const method = target;
  const map = state.maps[method];
  if (!state.client || !state.picture || !map || running) return;
  const key = keyOf(method);
  const mine = { key, started: false };
  running = mine;
  contentKey = key;
  document.documentElement.dataset.trust = 'running';
  $('trust-plots').replaceChildren();
  $('trust-sanity').textContent = '';
  $('trust-result').textContent = `Measuring the ${methodLabel(method)} map…`;
  const bar = $<HTMLProgressElement>('trust-progress');
  bar.hidden = false;
  bar.value = 0;
  $('trust-cancel').hidden = false;
  renderTrust(method);
  const picture = state.picture;
  try {
    await state.defaults;
    if (running !== mine) return;
    mine.started = true;
    const report = await state.client.evaluate(pixelsOf(picture), {
      methods: [method], class: map.classIndex, maps: { [method]: map },
      ...(map.layer ? { layer: map.layer } : {}),
      sanity: { steps: SAMPLED.includes(method) ? 2 : 5 },
      onProgress: (p) => { if (running === mine) progress(p); },
    });
    if (running !== mine) return;
    running = null;
    show(report, method, key);
  } catch (e) {
    if (running !== mine) return;
    running = null;
    done((e as { code?: string })?.code === 'CANCELLED' ? 'Stopped: a newer request took over. Run it again to measure.' : errorMessage(e));
  }
}

function show(report: TrustReport, method: Method, key: string): void {
  contentKey = key;
  const t = report.maps[method];
  const plots = $('trust-plots');
  plots.replaceChildren();
  for (const kind of ['deletion', 'insertion'] as const) {
    const ours = t?.[kind], chance = report.random?.[kind];
    if (!ours || !chance) continue;
    plots.append(h('figure', {}, curvePlot(kind, ours, chance, methodLabel(method)),
      h('figcaption', {}, `${kind === 'deletion' ? 'Deletion' : 'Insertion'}: area ${ours.auc.toFixed(2)} vs random ${chance.auc.toFixed(2)} (${kind === 'deletion' ? 'lower' : 'higher'} is better)`)));
  }
  plots.append(h('p', { class: 'trust-key note' }, h('span', { class: 'key map' }, '—'), ` ${methodLabel(method)}'s order  `, h('span', { class: 'key random' }, '- -'), ' random order'));
  $('trust-sanity').textContent = sanityLine(report, method);
  $('trust-progress').hidden = true;
  $('trust-cancel').hidden = true;
  $('trust-result').textContent = t?.summary ?? 'Nothing was measured.';
  document.documentElement.dataset.trust = 'done';
  renderTrust(method);
}

function sanityLine(report: TrustReport, method: Method): string {
  const steps = report.sanity ?? [];
  const last = steps[steps.length - 1];
  const r = last?.correlation[method];
  if (!last || r === undefined) return '';
  const verdict = r < 0.5 ? 'passed: the map depends on the trained weights' : 'failed: the map barely depends on the trained weights';
  return `Sanity check ${verdict} (rank correlation ${r.toFixed(2)} with ${last.randomized} layer${last.randomized === 1 ? '' : 's'} randomised from the top).`;
}
