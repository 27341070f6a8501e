/**
 * What the app knows now, shared by its rooms: the worker client, the model, the picture and its
 * maps, what is shown and how. One object, changed in place; each room re-renders what it owns.
 *
 * For tests and diagnosis the root element carries what happened (ROOT.dataset): model="ready",
 * stages (stages of the current explanation, in arrival order), shown (the method drawn), version
 * (the build this page runs), facing / camera-switch (the last camera switch).
 */
import type { BackendInfo, ModelInfo, WhycamClient } from '../../worker/client';
import type { ColormapName } from '../../src/render';
import type { SaliencyMap } from '../../src/methods/types';
import type { Method } from '../methods';
import type { Look } from '../explain/draw';
import type { Picture, Region } from '../explain/picture';

/** app-config.json, written by the build (pwa/build/assets-plugin.ts). */
export interface AppConfig {
  defaultModel: { url: string; name: string; bytes: number };
  /** The built-in models, the default ('default') first. */
  models: Array<{ id: string; url: string; name: string; bytes: number }>;
  /** Sample images, each chosen for one built-in model. */
  samples: Array<{ url: string; label: string; model: string }>;
  worker: string;
}

export interface Prediction { index: number; label: string; probability: number }

export const ROOT = document.documentElement;

export const state = {
  client: null as WhycamClient | null,
  /** The worker the client talks to (other sessions on it: checking an import's labels). */
  worker: null as Worker | null,
  /** What the worker computes with, and the URL it was started from. */
  backend: null as BackendInfo | null,
  workerUrl: null as string | null,
  config: null as AppConfig | null,
  model: null as ModelInfo | null,
  activeModel: 'default',
  picture: null as Picture | null,
  /** The part of the picture the model saw (from the prediction stage); null until it arrives. */
  region: null as Region | null,
  maps: {} as Partial<Record<Method, SaliencyMap>>,
  skipped: {} as Partial<Record<Method, string>>,
  predictions: [] as Prediction[],
  classIndex: -1,
  method: 'gradcam' as Method | 'compare',
  /** Once the person picks a method, a new stage no longer switches the view. */
  methodPicked: false,
  /** Settles when the default methods' request for the current picture and class has ended (however it ended). */
  defaults: Promise.resolve() as Promise<void>,
  /** Layer-CAM's layer (a path from the model's spatial layers); null: the model's default target layer. */
  layerCamLayer: null as string | null,
  colormap: 'turbo' as ColormapName,
  opacity: 0.55,
  live: false,
  liveFrames: [] as number[],
};

export function look(): Look {
  return { colormap: state.colormap, opacity: state.opacity };
}
