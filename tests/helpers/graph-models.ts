/**
 * Small tfjs GraphModels written by the tests: nodes as tensorflowjs_converter writes them
 * (attribute lists of strings, base64 strings, DT_ types), constants in a weights manifest,
 * optionally quantised to uint8 the converter's way (min + scale * q).
 */
import type { ModelFile } from '../../src/model/load';

type Attr = Record<string, unknown>;
export interface Node { name: string; op: string; input?: string[]; attr?: Attr }

const b64 = (s: string) => Buffer.from(s).toString('base64');
export const attr = {
  ints: (xs: number[]) => ({ list: { i: xs.map(String) } }),
  int: (x: number) => ({ i: String(x) }),
  str: (s: string) => ({ s: b64(s) }),
  strs: (xs: string[]) => ({ list: { s: xs.map(b64) } }),
  float: (f: number) => ({ f }),
  bool: (b: boolean) => ({ b }),
  type: (t = 'DT_FLOAT') => ({ type: t }),
};

/** A seeded generator of values in [-a, a]. */
export function seeded(seed: number): (a?: number) => number {
  let s = seed >>> 0;
  return (a = 1) => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return (s / 2 ** 32 * 2 - 1) * a;
  };
}

export class GraphBuilder {
  readonly nodes: Node[] = [];
  private readonly consts: Array<{ name: string; shape: number[]; values: Float32Array | Int32Array; dtype: 'float32' | 'int32' }> = [];

  input(name: string, shape: number[]): string {
    this.nodes.push({ name, op: 'Placeholder', attr: { shape: { shape: { dim: shape.map((d) => ({ size: String(d) })) } }, dtype: attr.type() } });
    return name;
  }

  constant(name: string, shape: number[], values: ArrayLike<number>, dtype: 'float32' | 'int32' = 'float32'): string {
    this.nodes.push({ name, op: 'Const', attr: { value: { tensor: { dtype: dtype === 'int32' ? 'DT_INT32' : 'DT_FLOAT', tensorShape: { dim: shape.map((d) => ({ size: String(d) })) } } }, dtype: attr.type(dtype === 'int32' ? 'DT_INT32' : 'DT_FLOAT') } });
    this.consts.push({ name, shape, values: dtype === 'int32' ? Int32Array.from(values) : Float32Array.from(values), dtype });
    return name;
  }

  random(name: string, shape: number[], rand: (a?: number) => number, scale = 0.5, offset = 0): string {
    const n = shape.reduce((a, b) => a * b, 1);
    return this.constant(name, shape, Array.from({ length: n }, () => offset + rand(scale)));
  }

  op(name: string, op: string, input: string[], a: Attr = {}): string {
    this.nodes.push({ name, op, input, attr: { T: attr.type(), ...a } });
    return name;
  }

  /** model.json + weights.bin; `quantize` writes float weights as uint8 with their own min and scale. */
  files(quantize = false): ModelFile[] {
    const specs: Array<Record<string, unknown>> = [];
    const parts: Uint8Array[] = [];
    for (const c of this.consts) {
      if (quantize && c.dtype === 'float32') {
        const min = Math.min(...c.values);
        const max = Math.max(...c.values);
        const scale = (max - min) / 255 || 1;
        const q = Uint8Array.from(c.values, (v) => Math.round((v - min) / scale));
        specs.push({ name: c.name, shape: c.shape, dtype: 'float32', quantization: { dtype: 'uint8', min, scale } });
        parts.push(q);
      } else {
        specs.push({ name: c.name, shape: c.shape, dtype: c.dtype });
        parts.push(new Uint8Array(c.values.buffer.slice(0)));
      }
    }
    const total = parts.reduce((a, p) => a + p.byteLength, 0);
    const bin = new Uint8Array(total);
    let at = 0;
    for (const p of parts) { bin.set(p, at); at += p.byteLength; }
    const json = {
      format: 'graph-model', generatedBy: 'whycam tests', convertedBy: 'TensorFlow.js Converter v4.22.0',
      modelTopology: { node: this.nodes, versions: { producer: 1395 } },
      weightsManifest: [{ paths: ['weights.bin'], weights: specs }],
    };
    return [{ name: 'model.json', data: new TextEncoder().encode(JSON.stringify(json)) }, { name: 'weights.bin', data: bin }];
  }
}
