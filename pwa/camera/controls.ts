/// <reference lib="dom" />
/** The camera's buttons: start and stop, switch front/rear, capture a frame, the live-map toggle. */
import { ROOT, state } from '../app/state';
import { clearError, errorMessage, showError, status } from '../app/messages';
import { $ } from '../dom';
import { toPicture } from '../explain/picture';
import { explain } from '../explain/run';
import { liveLoop } from './live';
import { camera, setCameraUi, video } from './preview';

async function startCamera(): Promise<void> {
  clearError();
  try {
    await camera.start();
    setCameraUi(true);
    status('Camera on. Capture a frame, or turn on the live map.');
    if (state.live) void liveLoop();
  } catch (e) {
    setCameraUi(false);
    showError(errorMessage(e));
  }
}

export function stopCamera(): void {
  state.live = false;
  ($('live') as HTMLInputElement).checked = false;
  camera.stop();
  setCameraUi(false);
}

/** The other camera (front/rear); the preview, and the live map if on, go on with whichever camera runs after. */
async function switchCamera(): Promise<void> {
  clearError();
  try {
    const r = await camera.switchCamera();
    ROOT.dataset.facing = r.facing;
    ROOT.dataset.cameraSwitch = r.changed ? 'switched' : 'same-camera';
    status(r.changed
      ? `Switched to the ${r.facing === 'user' ? 'front' : 'rear'} camera.`
      : r.cameras <= 1 ? 'This device has one camera; it stays on.' : 'The other camera gave the same picture source; it stays on.');
  } catch (e) {
    ROOT.dataset.cameraSwitch = 'failed';
    showError(errorMessage(e));
  }
  setCameraUi(camera.running);
  if (state.live && camera.running) void liveLoop();
}

/** Freezes the current frame and computes every map for it. */
async function capture(): Promise<void> {
  if (!camera.running || !video.videoWidth) return;
  // The whole frame, as a photo would be: the worker crops it as the model needs.
  const picture = await toPicture(video, video.videoWidth, video.videoHeight);
  stopCamera();
  await explain(picture);
}

export function wireCamera(): void {
  $('camera').addEventListener('click', () => (camera.running ? stopCamera() : void startCamera()));
  $('capture').addEventListener('click', () => void capture());
  $('switch').addEventListener('click', () => void switchCamera());
  $('live').addEventListener('change', (ev) => {
    state.live = (ev.target as HTMLInputElement).checked;
    state.liveFrames = [];
    setCameraUi(camera.running);
    if (state.live) void liveLoop();
    else void state.client?.cancel();
  });
  // A tap on the live preview freezes the frame and completes the sharp maps.
  video.addEventListener('click', () => void capture());
}
