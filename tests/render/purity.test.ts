import * as fs from 'fs';
import * as path from 'path';

// The page bundle imports src/render/: it must stay free of tfjs, Node built-ins and the DOM.
test('src/render imports only its own files, errors and the image types and pixel loops', () => {
  const dir = path.join(__dirname, '../../src/render');
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
    const source = fs.readFileSync(path.join(dir, file), 'utf8');
    const specifiers = Array.from(source.matchAll(/\bfrom\s+'([^']+)'|\brequire\('([^']+)'\)|\bimport\('([^']+)'\)/g), (m) => m[1] ?? m[2] ?? m[3]);
    for (const s of specifiers) {
      expect([file, s]).toEqual([file, expect.stringMatching(/^(\.\/[\w-]+|\.\.\/errors|\.\.\/image\/(types|shape|bilinear))$/)]);
    }
    expect(source).not.toMatch(/\b(document|window|HTMLCanvasElement|ImageData|Buffer)\b/);
  }
});

// Layering: images are below rendering (render draws over images, never the other way round).
test('src/image does not import src/render', () => {
  const dir = path.join(__dirname, '../../src/image');
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
    const source = fs.readFileSync(path.join(dir, file), 'utf8');
    expect([file, source]).toEqual([file, expect.not.stringMatching(/from\s+'\.\.\/render/)]);
  }
});
