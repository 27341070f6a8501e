/// <reference lib="dom" />
/** The camera's preview in the picture frame, with the live map over it, and the camera controls shown while it runs. */
import { state } from '../app/state';
import { $ } from '../dom';
import { view } from '../explain/render';
import { Camera } from './camera';

export const video = $<HTMLVideoElement>('video');
export const liveCanvas = $<HTMLCanvasElement>('live-overlay');
/** The one camera the app drives. */
export const camera = new Camera(video);

export function setCameraUi(running: boolean): void {
  $('camera').textContent = running ? 'Stop camera' : 'Start camera';
  $('capture').hidden = !running;
  $('switch').hidden = !running;
  $('live-label').hidden = !running;
  video.hidden = !running;
  view.hidden = running;
  liveCanvas.hidden = !(running && state.live);
  $('fps').hidden = !(running && state.live);
}
