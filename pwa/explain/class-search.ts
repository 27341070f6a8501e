/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * Explaining any class of the model by name: a combobox (a labelled input with a listbox of the
 * classes that match as the person types; arrow keys move through them, Enter or a tap picks one).
 * Picking a class explains the current picture for it.
 */
import { state } from '../app/state';
import { status } from '../app/messages';
import { $, h } from '../dom';
import { explain, renderPredictions } from './run';

/** Most matches listed at once. */
const MAX_MATCHES = 8;

/**
 * The classes whose name contains `query` (case-insensitive): exact names first, then names that
 * start with it, then names with a word that starts with it, then the rest; model order within each.
 */
export function matchClasses(labels: readonly string[], query: string, max = MAX_MATCHES): number[] {
  const q = query.trim().toLowerCase();
  if (!q) return [];
  const scored: Array<[number, number]> = [];
  labels.forEach((label, i) => {
    const l = label.toLowerCase();
    const at = l.indexOf(q);
    if (at < 0) return;
    const rank = l === q ? 0 : at === 0 ? 1 : /[^a-z0-9]/.test(l[at - 1]) ? 2 : 3;
    scored.push([rank, i]);
  });
  return scored.sort((a, b) => a[0] - b[0] || a[1] - b[1]).slice(0, max).map(([, i]) => i);
}

export function wireClassSearch(): void {
  const input = $<HTMLInputElement>('class-search');
  const list = $('class-matches');
  let matches: number[] = [];
  let active = -1;

  const close = () => {
    list.hidden = true;
    input.setAttribute('aria-expanded', 'false');
    input.removeAttribute('aria-activedescendant');
    active = -1;
  };

  const setActive = (i: number) => {
    active = i;
    for (const [k, li] of [...list.children].entries()) li.setAttribute('aria-selected', String(k === i));
    if (i >= 0) {
      input.setAttribute('aria-activedescendant', `class-option-${matches[i]}`);
      list.children[i]?.scrollIntoView({ block: 'nearest' });
    } else input.removeAttribute('aria-activedescendant');
  };

  const pick = (index: number) => {
    const label = state.model?.labels[index] ?? String(index);
    input.value = label;
    close();
    if (!state.picture) {
      status(`Pick a photo, a sample or a camera frame first; then “${label}” can be explained on it.`);
      return;
    }
    state.classIndex = index;
    renderPredictions();
    void explain(state.picture, index);
  };

  const update = () => {
    const labels = state.model?.labels ?? [];
    matches = matchClasses(labels, input.value);
    list.replaceChildren(...matches.map((i) => {
      const li = h('li', { role: 'option', id: `class-option-${i}`, 'data-class': String(i), 'aria-selected': 'false' }, labels[i]);
      // pointerdown, not click: the input keeps focus and does not close the list first.
      li.addEventListener('pointerdown', (ev) => {
        ev.preventDefault();
        pick(i);
      });
      return li;
    }));
    if (!input.value.trim()) return close();
    if (!matches.length) {
      list.replaceChildren(h('li', { role: 'option', 'aria-disabled': 'true', 'aria-selected': 'false', class: 'none' }, 'No class has that in its name'));
    }
    list.hidden = false;
    input.setAttribute('aria-expanded', 'true');
    setActive(-1);
  };

  input.addEventListener('input', update);
  input.addEventListener('focus', () => { if (input.value.trim()) update(); });
  input.addEventListener('blur', close);
  input.addEventListener('keydown', (ev) => {
    if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
      if (list.hidden) update();
      if (!matches.length) return;
      const step = ev.key === 'ArrowDown' ? 1 : -1;
      setActive(active < 0 ? (step > 0 ? 0 : matches.length - 1) : (active + step + matches.length) % matches.length);
      ev.preventDefault();
    } else if (ev.key === 'Enter') {
      const i = active >= 0 ? matches[active] : matches.length === 1 ? matches[0] : matches.length && state.model?.labels[matches[0]].toLowerCase() === input.value.trim().toLowerCase() ? matches[0] : -1;
      if (i >= 0) pick(i);
      ev.preventDefault();
    } else if (ev.key === 'Escape') {
      close();
    }
  });
}
