import { applyOrientation, readJpegOrientation, type Orientation } from '../../src/image/orientation';
import { withExifOrientation } from './bytes';

// Stored 3x2 grey image   a b c      (1 2 3)
//                         d e f      (4 5 6)
// and what each EXIF orientation displays, worked out by hand from the EXIF 2.3 definitions.
const stored = { data: Uint8Array.of(1, 2, 3, 4, 5, 6), width: 3, height: 2, channels: 1 as const };
const cases: Array<[Orientation, number, number, number[]]> = [
  [1, 3, 2, [1, 2, 3, 4, 5, 6]],
  [2, 3, 2, [3, 2, 1, 6, 5, 4]], // mirror horizontally: c b a / f e d
  [3, 3, 2, [6, 5, 4, 3, 2, 1]], // rotate 180: f e d / c b a
  [4, 3, 2, [4, 5, 6, 1, 2, 3]], // mirror vertically: d e f / a b c
  [5, 2, 3, [1, 4, 2, 5, 3, 6]], // mirror horizontally + rotate 270 CW (transpose): a d / b e / c f
  [6, 2, 3, [4, 1, 5, 2, 6, 3]], // rotate 90 CW: d a / e b / f c
  [7, 2, 3, [6, 3, 5, 2, 4, 1]], // mirror horizontally + rotate 90 CW (transverse): f c / e b / d a
  [8, 2, 3, [3, 6, 2, 5, 1, 4]], // rotate 90 CCW: c f / b e / a d
];

test.each(cases)('orientation %i -> %ix%i', (orientation, w, h, expected) => {
  const out = applyOrientation(stored, orientation);
  expect([out.width, out.height, out.channels]).toEqual([w, h, 1]);
  expect(Array.from(out.data)).toEqual(expected);
});

test('multi-channel pixels move as a whole', () => {
  const rgb = { data: Uint8Array.of(1, 2, 3, 4, 5, 6), width: 2, height: 1, channels: 3 as const };
  expect(Array.from(applyOrientation(rgb, 2).data)).toEqual([4, 5, 6, 1, 2, 3]);
});

test('orientation 1 returns the same object', () => {
  expect(applyOrientation(stored, 1)).toBe(stored);
});

test('reads the tag in either byte order; 1 when absent or invalid', () => {
  const jpeg = Uint8Array.of(0xff, 0xd8, 0xff, 0xd9);
  expect(readJpegOrientation(jpeg)).toBe(1);
  for (let o = 1; o <= 8; o++) {
    expect(readJpegOrientation(withExifOrientation(jpeg, o, false))).toBe(o);
    expect(readJpegOrientation(withExifOrientation(jpeg, o, true))).toBe(o);
  }
  expect(readJpegOrientation(withExifOrientation(jpeg, 9))).toBe(1);
  expect(readJpegOrientation(withExifOrientation(jpeg, 6).subarray(0, 20))).toBe(1); // cut inside the segment
});
