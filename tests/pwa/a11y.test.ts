/**
 * Accessibility: axe-core scans the main screens (start, explained, compare view, model import
 * open) at a phone viewport; no serious or critical violation is allowed.
 */
import type { Page } from 'playwright-core';
import { appOnPhone, waitForModel, waitForStage } from './helpers';

const phone = appOnPhone();

interface Violation { id: string; impact: string | null; help: string; nodes: Array<{ target: string[] }> }

async function scan(page: Page): Promise<string[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ path: require.resolve('axe-core/axe.min.js') });
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: Document, o: object): Promise<{ violations: unknown[] }> } }).axe;
    return (await axe.run(document, { resultTypes: ['violations'] })).violations;
  }) as Violation[];
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

test('main screens have no serious or critical axe violations', async () => {
  const { page } = phone.app;
  await page.goto(`${phone.server.origin}/`);
  await waitForModel(page);
  expect(await scan(page)).toEqual([]);

  await page.locator('#samples button').first().click();
  await waitForStage(page, 'guided-gradcam');
  expect(await scan(page)).toEqual([]);

  await page.locator('[data-method=compare]').click();
  await page.locator('details summary').click();
  expect(await scan(page)).toEqual([]);
});
