/**
 * The widget's protocol validator and origin allowlist (pwa/widget/protocol.ts): pure functions,
 * checked here message by message. The browser tests (widget.test.ts) show the same answers
 * arriving across real origins.
 */
import {
  DEFAULT_LIMITS, frameAncestors, LOCALHOST_RULES, narrowRules, originAllowed, parseOriginRule, validateHostMessage, widgetConfigFrom,
} from '../../pwa/widget/protocol';

/** Something Object.prototype.toString calls an ImageBitmap (Node has none). */
function fakeBitmap(width: number, height: number): object {
  return { width, height, [Symbol.toStringTag]: 'ImageBitmap' };
}

const png = new Blob([new Uint8Array([0x89, 0x50, 0x4e, 0x47])], { type: 'image/png' });

describe('validateHostMessage', () => {
  test('valid messages of every type come back typed, options copied', () => {
    expect(validateHostMessage({ whycam: 1, type: 'hello', id: 'h1' })).toEqual({ ok: true, message: { whycam: 1, type: 'hello', id: 'h1' } });
    expect(validateHostMessage({ whycam: 1, type: 'hello', id: 'h1', model: 'https://models.example/m/model.json' }))
      .toMatchObject({ ok: true, message: { model: 'https://models.example/m/model.json' } });
    const r = validateHostMessage({ whycam: 1, type: 'explain', id: 'r-1', image: png, options: { class: 'Class 2', methods: ['gradcam', 'guided-gradcam'], topK: 3, model: 'default' } });
    expect(r).toEqual({ ok: true, message: { whycam: 1, type: 'explain', id: 'r-1', image: png, options: { class: 'Class 2', methods: ['gradcam', 'guided-gradcam'], topK: 3, model: 'default' } } });
    const bmp = fakeBitmap(640, 480);
    expect(validateHostMessage({ whycam: 1, type: 'explain', id: 'r2', image: bmp, options: { class: 0 } })).toMatchObject({ ok: true, message: { image: bmp, options: { class: 0 } } });
    expect(validateHostMessage({ whycam: 1, type: 'explain', id: 'r3', image: png })).toMatchObject({ ok: true, message: { options: {} } });
    expect(validateHostMessage({ whycam: 1, type: 'cancel', id: 'r3' })).toEqual({ ok: true, message: { whycam: 1, type: 'cancel', id: 'r3' } });
    expect(validateHostMessage({ whycam: 1, type: 'camera', id: 'c1', action: 'start' })).toMatchObject({ ok: true, message: { action: 'start', options: {} } });
    expect(validateHostMessage({ whycam: 1, type: 'camera', id: 'c2', action: 'capture', options: { methods: ['cam'] } })).toMatchObject({ ok: true, message: { options: { methods: ['cam'] } } });
  });

  test('data that is not a whycam message gets no answer', () => {
    for (const d of [null, undefined, 42, 'hello', [1, 2], { type: 'explain', id: 'x' }, { foo: 1 }, new Map(), png]) {
      expect(validateHostMessage(d)).toEqual({ ok: false, reply: null });
    }
  });

  test('another version: UNSUPPORTED_VERSION with the versions spoken, whatever else is wrong', () => {
    for (const v of [2, 0, '1', null, 1.5]) {
      const r = validateHostMessage({ whycam: v, type: 'explain', id: 'v', image: 'junk' });
      expect(r).toEqual({ ok: false, reply: expect.objectContaining({ whycam: 1, type: 'error', id: 'v', code: 'UNSUPPORTED_VERSION', supported: [1] }) });
    }
  });

  const badCases: Array<[string, unknown, string | null, string]> = [
    ['no id', { whycam: 1, type: 'hello' }, null, 'BAD_MESSAGE'],
    ['numeric id', { whycam: 1, type: 'hello', id: 7 }, null, 'BAD_MESSAGE'],
    ['huge id', { whycam: 1, type: 'hello', id: 'x'.repeat(100_000) }, null, 'BAD_MESSAGE'],
    ['id with markup', { whycam: 1, type: 'hello', id: '<b>' }, null, 'BAD_MESSAGE'],
    ['unknown type', { whycam: 1, type: 'steal', id: 'a' }, 'a', 'BAD_MESSAGE'],
    ['type not a string', { whycam: 1, type: ['explain'], id: 'a' }, 'a', 'BAD_MESSAGE'],
    ['unknown field', { whycam: 1, type: 'hello', id: 'a', extra: 1 }, 'a', 'BAD_MESSAGE'],
    ['explain without image', { whycam: 1, type: 'explain', id: 'a' }, 'a', 'BAD_MESSAGE'],
    ['image a string', { whycam: 1, type: 'explain', id: 'a', image: 'https://x/y.png' }, 'a', 'BAD_MESSAGE'],
    ['image raw bytes', { whycam: 1, type: 'explain', id: 'a', image: new Uint8Array(10) }, 'a', 'BAD_MESSAGE'],
    ['image null', { whycam: 1, type: 'explain', id: 'a', image: null }, 'a', 'BAD_MESSAGE'],
    ['options not an object', { whycam: 1, type: 'explain', id: 'a', image: png, options: 'gradcam' }, 'a', 'BAD_MESSAGE'],
    ['methods a string', { whycam: 1, type: 'explain', id: 'a', image: png, options: { methods: 'gradcam' } }, 'a', 'BAD_MESSAGE'],
    ['unknown method', { whycam: 1, type: 'explain', id: 'a', image: png, options: { methods: ['lime'] } }, 'a', 'BAD_MESSAGE'],
    ['empty methods', { whycam: 1, type: 'explain', id: 'a', image: png, options: { methods: [] } }, 'a', 'BAD_MESSAGE'],
    ['method twice', { whycam: 1, type: 'explain', id: 'a', image: png, options: { methods: ['cam', 'cam'] } }, 'a', 'BAD_MESSAGE'],
    ['class negative', { whycam: 1, type: 'explain', id: 'a', image: png, options: { class: -1 } }, 'a', 'BAD_MESSAGE'],
    ['class fractional', { whycam: 1, type: 'explain', id: 'a', image: png, options: { class: 1.5 } }, 'a', 'BAD_MESSAGE'],
    ['class huge label', { whycam: 1, type: 'explain', id: 'a', image: png, options: { class: 'c'.repeat(10_000) } }, 'a', 'BAD_MESSAGE'],
    ['class an object', { whycam: 1, type: 'explain', id: 'a', image: png, options: { class: {} } }, 'a', 'BAD_MESSAGE'],
    ['topK zero', { whycam: 1, type: 'explain', id: 'a', image: png, options: { topK: 0 } }, 'a', 'BAD_MESSAGE'],
    ['topK string', { whycam: 1, type: 'explain', id: 'a', image: png, options: { topK: '5' } }, 'a', 'BAD_MESSAGE'],
    ['typo in an option', { whycam: 1, type: 'explain', id: 'a', image: png, options: { clas: 1 } }, 'a', 'BAD_MESSAGE'],
    ['model relative', { whycam: 1, type: 'explain', id: 'a', image: png, options: { model: 'models/x/model.json' } }, 'a', 'BAD_MESSAGE'],
    ['model javascript:', { whycam: 1, type: 'hello', id: 'a', model: 'javascript:alert(1)' }, 'a', 'BAD_MESSAGE'],
    ['model data:', { whycam: 1, type: 'hello', id: 'a', model: 'data:application/json,{}' }, 'a', 'BAD_MESSAGE'],
    ['model huge URL', { whycam: 1, type: 'hello', id: 'a', model: `https://x.example/${'a'.repeat(5000)}` }, 'a', 'BAD_MESSAGE'],
    ['camera bad action', { whycam: 1, type: 'camera', id: 'a', action: 'record' }, 'a', 'BAD_MESSAGE'],
    ['camera options on start', { whycam: 1, type: 'camera', id: 'a', action: 'start', options: {} }, 'a', 'BAD_MESSAGE'],
    ['cancel with extra', { whycam: 1, type: 'cancel', id: 'a', image: png }, 'a', 'BAD_MESSAGE'],
    ['blob over the cap', { whycam: 1, type: 'explain', id: 'a', image: { size: DEFAULT_LIMITS.maxImageBytes + 1, [Symbol.toStringTag]: 'Blob' } }, 'a', 'PAYLOAD_TOO_LARGE'],
    ['bitmap over the cap', { whycam: 1, type: 'explain', id: 'a', image: fakeBitmap(8192, 4096) }, 'a', 'PAYLOAD_TOO_LARGE'],
  ];
  test.each(badCases)('%s: a typed error, answered with the id when usable', (_what, data, id, code) => {
    const r = validateHostMessage(data);
    expect(r.ok).toBe(false);
    const reply = (r as { reply: { whycam: number; type: string; id: string | null; code: string; message: string } }).reply;
    expect(reply).toMatchObject({ whycam: 1, type: 'error', id, code });
    // A message a person can act on, never an echo of a huge payload.
    expect(reply.message.length).toBeGreaterThan(10);
    expect(reply.message.length).toBeLessThan(400);
  });

  test('limits are the caller\'s: a blob at the cap passes, one byte more does not', () => {
    const limits = { maxImageBytes: 1000, maxImagePixels: 100 };
    const blob = (size: number) => ({ size, [Symbol.toStringTag]: 'Blob' });
    expect(validateHostMessage({ whycam: 1, type: 'explain', id: 'a', image: blob(1000) }, limits).ok).toBe(true);
    expect(validateHostMessage({ whycam: 1, type: 'explain', id: 'a', image: blob(1001) }, limits)).toMatchObject({ reply: { code: 'PAYLOAD_TOO_LARGE' } });
    expect(validateHostMessage({ whycam: 1, type: 'explain', id: 'a', image: fakeBitmap(10, 10) }, limits).ok).toBe(true);
    expect(validateHostMessage({ whycam: 1, type: 'explain', id: 'a', image: fakeBitmap(10, 11) }, limits)).toMatchObject({ reply: { code: 'PAYLOAD_TOO_LARGE' } });
  });
});

describe('origin allowlist', () => {
  test('exact origins, any-port rules and *; never the opaque origin', () => {
    const rules = ['https://course.example.org', 'http://localhost:*'];
    expect(originAllowed('https://course.example.org', rules)).toBe(true);
    expect(originAllowed('https://course.example.org:8443', rules)).toBe(false);
    expect(originAllowed('http://course.example.org', rules)).toBe(false);
    expect(originAllowed('https://evil.course.example.org', rules)).toBe(false);
    expect(originAllowed('https://course.example.org.evil.com', rules)).toBe(false);
    expect(originAllowed('http://localhost:1234', rules)).toBe(true);
    expect(originAllowed('http://localhost', rules)).toBe(true); // any port includes the default one
    expect(originAllowed('https://localhost:1234', rules)).toBe(false);
    expect(originAllowed('http://127.0.0.1:1234', rules)).toBe(false);
    expect(originAllowed('null', ['*'])).toBe(false);
    expect(originAllowed('', ['*'])).toBe(false);
    expect(originAllowed('https://anyone.example', ['*'])).toBe(true);
    // Not an origin (a path, a trailing slash) never matches.
    expect(originAllowed('https://course.example.org/', rules)).toBe(false);
  });

  test('rules are normalised and checked at build time', () => {
    expect(parseOriginRule('HTTPS://Course.Example.org:443/')).toBe('https://course.example.org');
    expect(parseOriginRule('http://LOCALHOST:*')).toBe('http://localhost:*');
    expect(parseOriginRule('http://[::1]:*')).toBe('http://[::1]:*');
    for (const bad of ['course.example.org', 'ftp://x.example', 'https://x.example/path', 'https://*.example.org', '', 'null']) {
      expect(() => parseOriginRule(bad)).toThrow(/not an origin/);
    }
  });

  test('WHYCAM_WIDGET_ORIGINS: unset is localhost only; a list replaces it; a bad entry fails the build', () => {
    expect(widgetConfigFrom(undefined).allowedOrigins).toEqual([...LOCALHOST_RULES]);
    expect(widgetConfigFrom('  ').allowedOrigins).toEqual([...LOCALHOST_RULES]);
    const c = widgetConfigFrom('https://course.example.org, https://cards.example:8443 https://course.example.org');
    expect(c.allowedOrigins).toEqual(['https://course.example.org', 'https://cards.example:8443']);
    expect(c.limits).toEqual(DEFAULT_LIMITS);
    expect(() => widgetConfigFrom('https://ok.example,not-an-origin')).toThrow(/not-an-origin/);
    for (const o of ['http://localhost:8080', 'http://127.0.0.1:5', 'https://[::1]:443']) expect(originAllowed(new URL(o).origin, LOCALHOST_RULES)).toBe(true);
    expect(originAllowed('https://example.org', LOCALHOST_RULES)).toBe(false);
  });

  test('the URL fragment narrows the configured list, never widens it', () => {
    const configured = ['https://a.example', 'http://localhost:*'];
    expect(narrowRules(configured, null)).toEqual(configured);
    expect(narrowRules(configured, 'https://a.example')).toEqual(['https://a.example']);
    expect(narrowRules(configured, 'http://localhost:3000,https://a.example')).toEqual(['http://localhost:3000', 'https://a.example']);
    // Not configured, a wildcard, or garbage: dropped. Nothing left means nobody.
    expect(narrowRules(configured, 'https://b.example')).toEqual([]);
    expect(narrowRules(configured, '*')).toEqual([]);
    expect(narrowRules(configured, 'http://localhost:*')).toEqual([]);
    expect(narrowRules(configured, 'garbage,,')).toEqual([]);
    expect(narrowRules(['*'], 'https://b.example')).toEqual(['https://b.example']);
    for (const requested of ['https://b.example', '*', 'https://a.example,https://b.example']) {
      for (const o of narrowRules(configured, requested)) expect(originAllowed(o, configured)).toBe(true);
    }
  });
});

describe('frame-ancestors from the allowlist', () => {
  test('the widget itself and every listed origin may frame it; a public widget anyone; IPv6 literals have no CSP form', () => {
    expect(frameAncestors(['https://course.example.org', 'https://cards.example:8443'])).toBe("frame-ancestors 'self' https://course.example.org https://cards.example:8443");
    expect(frameAncestors(LOCALHOST_RULES)).toBe("frame-ancestors 'self' http://localhost:* https://localhost:* http://127.0.0.1:* https://127.0.0.1:*");
    expect(frameAncestors(['https://a.example', '*'])).toBe('frame-ancestors *');
    expect(frameAncestors([])).toBe("frame-ancestors 'self'");
  });

  test('a rule that is not an origin never reaches the header (no extra directive, no line break)', () => {
    expect(frameAncestors(['https://a.example; script-src *', 'https://b.example\r\nX-Evil: 1', ' https://C.example/ '])).toBe("frame-ancestors 'self' https://c.example");
  });
});
