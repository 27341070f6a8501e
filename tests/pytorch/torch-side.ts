/**
 * The PyTorch side of the parity test and the benchmark: tests/pytorch/same_work.py run by
 * Debian's python3 (python3-torch, python3-torchvision), on a tfjs LayersModel written to disk.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

/** Debian's interpreter: python3-torch installs into its dist-packages, not into another python3 on PATH. */
export const TORCH_PYTHON = '/usr/bin/python3';
const SCRIPT = path.join(__dirname, 'same_work.py');
export const TORCH_INSTALL = 'apt-get install -y python3-torch python3-torchvision';

/** The torch version, or null (with the reason) when Debian's python3-torch cannot be imported. */
export function torchVersion(): { version: string } | { missing: string } {
  const r = spawnSync(TORCH_PYTHON, ['-c', 'import torch, torchvision; print(torch.__version__)'], { encoding: 'utf8' });
  if (r.status === 0) return { version: r.stdout.trim() };
  return { missing: `PyTorch is not importable by ${TORCH_PYTHON} (${(r.stderr || String(r.error ?? '')).trim().split('\n').pop()}); install it with: ${TORCH_INSTALL}` };
}

/** Writes a LayersModel as model.json + weights.bin (float32), as tfjs's own save would. */
export async function saveLayersModel(model: tfl.LayersModel, dir: string): Promise<string> {
  fs.mkdirSync(dir, { recursive: true });
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    fs.writeFileSync(path.join(dir, 'weights.bin'), Buffer.from(artifacts.weightData as ArrayBuffer));
    fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify({
      modelTopology: artifacts.modelTopology,
      format: 'layers-model',
      weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
    }));
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  return path.join(dir, 'model.json');
}

export interface SameWorkOptions {
  modelJson: string;
  /** The target layer's name (its last path segment). */
  target: string;
  runs?: number;
  threads?: number;
  /** The preprocessed input, NHWC float32 (little-endian), as whycam feeds the model. */
  input?: Float32Array;
  classIndex?: number;
  /** Writes the maps here (probabilities, gradcam, vanilla, guided, ggc .f32). */
  dump?: string;
  /** PyTorch memory formats to time (default both; the faster full request is reported). */
  layouts?: Array<'nchw' | 'channels_last'>;
}

export interface SameWorkTimes {
  forward_ms: number;
  first_map_ms: number;
  full_ms: number;
}

export interface SameWorkResult extends Partial<SameWorkTimes> {
  torch: string;
  threads: number;
  runs: number;
  class: number;
  /** The faster layout, whose times are at the top level. */
  layout?: string;
  layouts?: Record<string, SameWorkTimes>;
  gradcam_shape?: number[];
  error?: string;
}

export function runSameWork(o: SameWorkOptions): SameWorkResult {
  const args = [SCRIPT, '--model', o.modelJson, '--target', o.target, '--runs', String(o.runs ?? 10), '--threads', String(o.threads ?? 1)];
  let inputFile: string | undefined;
  if (o.input) {
    // In the temp folder: a shipped model's folder is part of the repository.
    inputFile = path.join(os.tmpdir(), `whycam-input-${process.pid}-${Date.now()}.f32`);
    fs.writeFileSync(inputFile, Buffer.from(o.input.buffer, o.input.byteOffset, o.input.byteLength));
    args.push('--input', inputFile);
  }
  if (o.classIndex !== undefined) args.push('--class', String(o.classIndex));
  if (o.dump) args.push('--dump', o.dump);
  if (o.layouts) args.push('--layouts', o.layouts.join(','));
  try {
    const out = execFileSync(TORCH_PYTHON, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, OMP_NUM_THREADS: String(o.threads ?? 1) } });
    return JSON.parse(out.trim().split('\n').pop() as string) as SameWorkResult;
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    const line = (err.stdout ?? '').trim().split('\n').pop();
    if (line?.startsWith('{')) return JSON.parse(line) as SameWorkResult;
    throw new Error(`same_work.py failed: ${(err.stderr ?? err.message).trim().split('\n').slice(-3).join(' | ')}`);
  } finally {
    if (inputFile) fs.rmSync(inputFile, { force: true });
  }
}

/** A dumped map as float32. */
export function readDump(dir: string, name: string): Float32Array {
  const b = fs.readFileSync(path.join(dir, `${name}.f32`));
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}
