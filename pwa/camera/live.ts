/// <reference lib="dom" />
/**
 * The live map: the coarse class map of the newest camera frame over the preview, as fast as the
 * worker manages (frames that arrive meanwhile replace each other), with the rate shown.
 */
import type { SaliencyMap } from '../../src/methods/types';
import { look, ROOT, state } from '../app/state';
import { errorMessage, showError } from '../app/messages';
import { $ } from '../dom';
import { drawLiveOverlay } from '../explain/draw';
import { renderPredictions } from '../explain/run';
import type { Method } from '../methods';
import type { Region } from '../explain/picture';
import { camera, liveCanvas, video } from './preview';

let liveLoopRunning = false;

/** Where `region` (in pixels of a frame grabbed at `scale`) lies on the live overlay, which covers the preview's centre square. */
function onPreview(region: Region, scale: number): Region {
  const { sx, sy, side } = camera.crop();
  const k = liveCanvas.width / side;
  return { x: (region.x / scale - sx) * k, y: (region.y / scale - sy) * k, width: (region.width / scale) * k, height: (region.height / scale) * k };
}

/** Newest frame only, as fast as the worker manages: the coarse map follows the preview. One loop at a time. */
export async function liveLoop(): Promise<void> {
  if (liveLoopRunning) return;
  liveLoopRunning = true;
  try {
    await liveFrames();
  } finally {
    liveLoopRunning = false;
  }
}

async function liveFrames(): Promise<void> {
  if (!state.client || !state.model) return;
  const method: Method = state.model.cam.applies ? 'cam' : 'gradcam';
  // Frames no larger than the model needs: the short side at the input's (the worker crops the centre).
  const inputSide = Math.min(state.model.input.width, state.model.input.height);
  liveCanvas.width = liveCanvas.height = 448;
  while (state.live && camera.running && state.client) {
    let frame: ImageBitmap;
    let scale = 1;
    try {
      frame = await camera.grab((w, h) => inputSide / Math.min(w, h));
      scale = frame.width / video.videoWidth;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
      continue;
    }
    let region: Region | null = null;
    try {
      await state.client.explainLatest(frame, { methods: [method], topK: 5 }, (stage) => {
        if (!state.live) return;
        if (stage.stage === 'prediction') {
          state.predictions = stage.predictions;
          state.classIndex = stage.classIndex;
          region = stage.region;
          renderPredictions();
        } else if (stage.maps[method] && region) {
          drawLiveOverlay(liveCanvas, stage.maps[method] as SaliencyMap, method, look(), onPreview(region, scale));
        }
      });
      const now = performance.now();
      state.liveFrames = [...state.liveFrames.filter((t) => now - t < 2000), now];
      const fps = state.liveFrames.length > 1 ? (state.liveFrames.length - 1) / ((now - state.liveFrames[0]) / 1000) : 0;
      $('fps').textContent = `${fps.toFixed(1)} maps/s`;
      ROOT.dataset.liveFrames = String(Number(ROOT.dataset.liveFrames ?? 0) + 1);
    } catch (e) {
      if ((e as { code?: string })?.code !== 'CANCELLED') {
        showError(errorMessage(e));
        break;
      }
    }
  }
}
