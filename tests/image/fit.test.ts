/** How a photo meets the model input: crop boxes computed by hand for cover, contain and stretch. */
import { WhycamError } from '../../src/errors';
import { fitPlan } from '../../src/image/fit';

const whole = (w: number, h: number) => ({ x: 0, y: 0, width: w, height: h });

describe('cover: centre crop to the input aspect', () => {
  test.each([
    // chelsea.png: 151 extra columns, 75 left of the crop (floor of 75.5), 76 right.
    [451, 300, 224, 224, { x: 75, y: 0, width: 300, height: 300 }],
    [300, 451, 224, 224, { x: 0, y: 75, width: 300, height: 300 }],
    // rocket.jpg: (640 - 427) / 2 = 106.5 -> 106.
    [640, 427, 224, 224, { x: 106, y: 0, width: 427, height: 427 }],
    // A 4:3 phone photo.
    [4000, 3000, 224, 224, { x: 500, y: 0, width: 3000, height: 3000 }],
    // Non-square input 2:1: the 4:3 photo is too tall, so rows go: 400 * 100 / 200 = 200 rows, from (300 - 200) / 2 = 50.
    [400, 300, 200, 100, { x: 0, y: 50, width: 400, height: 200 }],
    // Input 3:4 from a 16:9 photo: 1080 * 3 / 4 = 810 columns from (1920 - 810) / 2 = 555.
    [1920, 1080, 96, 128, { x: 555, y: 0, width: 810, height: 1080 }],
    // Same aspect: the whole photo.
    [512, 512, 224, 224, whole(512, 512)],
    [448, 224, 64, 32, whole(448, 224)],
  ])('%ix%i into %ix%i', (sw, sh, dw, dh, box) => {
    const plan = fitPlan(sw, sh, dw, dh, 'cover');
    expect(plan.source).toEqual(box);
    expect(plan.region).toEqual(box);
    expect(plan.placed).toEqual(whole(dw, dh));
  });
});

describe('contain: the whole photo inside the input, padded', () => {
  test('400x200 into 224x224: 224x112 placed 56 rows down; the input spans 400x400 source pixels from y = -100', () => {
    const plan = fitPlan(400, 200, 224, 224, 'contain');
    expect(plan.source).toEqual(whole(400, 200));
    expect(plan.placed).toEqual({ x: 0, y: 56, width: 224, height: 112 });
    expect(plan.region.x).toBe(0);
    expect(plan.region.y).toBeCloseTo(-100, 10);
    expect(plan.region.width).toBeCloseTo(400, 10);
    expect(plan.region.height).toBeCloseTo(400, 10);
  });
  test('300x451 into 224x224: 300 * 224 / 451 = 149.002 -> 149 columns from x = floor(75 / 2) = 37', () => {
    const plan = fitPlan(300, 451, 224, 224, 'contain');
    expect(plan.placed).toEqual({ x: 37, y: 0, width: 149, height: 224 });
    // 300 / 149 source pixels per input column.
    expect(plan.region.x).toBeCloseTo((-37 * 300) / 149, 10);
    expect(plan.region.width).toBeCloseTo((224 * 300) / 149, 10);
    expect(plan.region.y).toBe(0);
    expect(plan.region.height).toBeCloseTo(451, 10);
  });
  test('same aspect: no padding', () => {
    const plan = fitPlan(512, 512, 224, 224, 'contain');
    expect(plan.placed).toEqual(whole(224, 224));
    expect(plan.region).toEqual(whole(512, 512));
  });
});

test('stretch: the whole photo onto the whole input', () => {
  expect(fitPlan(451, 300, 224, 224, 'stretch')).toEqual({ fit: 'stretch', source: whole(451, 300), placed: whole(224, 224), region: whole(451, 300) });
});

test('an unknown fit or a bad size is a BAD_OPTION', () => {
  for (const bad of [() => fitPlan(4, 4, 2, 2, 'fill' as never), () => fitPlan(0, 4, 2, 2), () => fitPlan(4, 4, 2.5, 2)]) {
    let err: unknown;
    try { bad(); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(WhycamError);
    expect((err as WhycamError).code).toBe('BAD_OPTION');
  }
});
