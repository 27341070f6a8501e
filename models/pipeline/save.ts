/**
 * Writes a tfjs LayersModel as model.json + one weights.bin (the layout tfjs's own
 * file:// and http:// handlers produce), plus the metadata.json the engine reads.
 * Node has no file:// save handler without tfjs-node, hence this one.
 */
import { mkdirSync, writeFileSync } from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { ModelMetadata } from '../../src/model/load';

export const WEIGHTS_FILE = 'weights.bin';

/** model.json + weights.bin; returns the files' sizes in bytes. */
export async function saveLayersModel(model: tfl.LayersModel, dir: string): Promise<{ modelJson: number; weights: number }> {
  mkdirSync(dir, { recursive: true });
  let sizes = { modelJson: 0, weights: 0 };
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    const data = artifacts.weightData;
    const weights = new Uint8Array(tf.io.CompositeArrayBuffer.join(data as ArrayBuffer | ArrayBuffer[]));
    // The model.json tfjs writes, without the training config (the shipped model is for inference).
    const json = {
      format: artifacts.format ?? 'layers-model',
      generatedBy: artifacts.generatedBy,
      convertedBy: artifacts.convertedBy ?? null,
      modelTopology: artifacts.modelTopology,
      weightsManifest: [{ paths: [WEIGHTS_FILE], weights: artifacts.weightSpecs ?? [] }],
    };
    const text = JSON.stringify(json);
    writeFileSync(path.join(dir, 'model.json'), text);
    writeFileSync(path.join(dir, WEIGHTS_FILE), weights);
    sizes = { modelJson: Buffer.byteLength(text), weights: weights.byteLength };
    return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
  }));
  return sizes;
}

export function saveMetadata(dir: string, metadata: ModelMetadata): void {
  writeFileSync(path.join(dir, 'metadata.json'), `${JSON.stringify(metadata, null, 2)}\n`);
}
