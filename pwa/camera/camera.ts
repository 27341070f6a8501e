/// <reference lib="dom" />
/**
 * The camera: getUserMedia with the rear camera by default, switching, and square frames.
 * Switching asks for the other facingMode; where that gives the same camera back although the
 * device has more (laptop and desktop cameras usually report no facing), it takes the next camera
 * by deviceId; with one camera the preview simply goes on with it. If the other camera cannot
 * start, the previous one is started again.
 */

export class CameraError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CameraError';
  }
}

/** What a person can do about each getUserMedia failure. */
export function cameraMessage(e: unknown): string {
  const name = (e as { name?: string })?.name;
  switch (name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return 'Camera access was denied. Allow the camera for this site in the browser settings and try again, or pick a photo instead.';
    case 'NotFoundError':
    case 'OverconstrainedError':
      return 'No camera was found on this device. Pick a photo or try a sample scene instead.';
    case 'NotReadableError':
    case 'AbortError':
      return 'The camera is in use by another app or could not start. Close other apps using it and try again.';
    default:
      return `The camera could not start (${(e as Error)?.message ?? String(e)}). Pick a photo instead.`;
  }
}

export interface SwitchOutcome {
  /** The facingMode asked for last. */
  facing: 'environment' | 'user';
  /** Whether another camera than before is streaming now. */
  changed: boolean;
  /** Video inputs the browser lists (1 when it lists none but one is streaming). */
  cameras: number;
}

export class Camera {
  private stream: MediaStream | null = null;
  facing: 'environment' | 'user' = 'environment';

  constructor(private readonly video: HTMLVideoElement) {}

  get running(): boolean {
    return this.stream !== null;
  }

  /** The deviceId of the camera now streaming. */
  get deviceId(): string | undefined {
    return this.stream?.getVideoTracks()[0]?.getSettings().deviceId;
  }

  async start(deviceId?: string): Promise<void> {
    if (!navigator.mediaDevices?.getUserMedia) {
      throw new CameraError(window.isSecureContext
        ? 'This browser has no camera access (getUserMedia). Pick a photo instead, or use a recent Chrome, Firefox or Safari.'
        : 'The camera only works on a secure page (https:// or localhost). Pick a photo instead.');
    }
    this.stop();
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({
        audio: false,
        video: { ...(deviceId ? { deviceId: { exact: deviceId } } : { facingMode: { ideal: this.facing } }), width: { ideal: 1280 }, height: { ideal: 720 } },
      });
    } catch (e) {
      throw new CameraError(cameraMessage(e));
    }
    this.video.srcObject = this.stream;
    await this.video.play().catch(() => {});
    if (this.video.readyState < 2) {
      await new Promise<void>((resolve) => this.video.addEventListener('loadeddata', () => resolve(), { once: true }));
    }
  }

  async switchCamera(): Promise<SwitchOutcome> {
    const before = this.deviceId;
    const previous = this.facing;
    this.facing = previous === 'environment' ? 'user' : 'environment';
    try {
      await this.start();
    } catch (e) {
      // The other camera would not start: bring back the one that worked (the error is still reported).
      this.facing = previous;
      await this.start(before).catch(() => {});
      throw e;
    }
    let cameras: string[] = [];
    try {
      cameras = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === 'videoinput' && d.deviceId).map((d) => d.deviceId);
    } catch {
      // Not listable: facingMode was all we could ask for.
    }
    if (before && this.deviceId === before && cameras.length > 1) {
      const next = cameras[(cameras.indexOf(before) + 1) % cameras.length];
      try {
        await this.start(next);
      } catch {
        await this.start(before).catch(() => {});
      }
    }
    return { facing: this.facing, changed: this.deviceId !== before, cameras: Math.max(cameras.length, this.running ? 1 : 0) };
  }

  stop(): void {
    this.stream?.getTracks().forEach((t) => t.stop());
    this.stream = null;
    this.video.srcObject = null;
  }

  /** The centre square of the current frame: what the preview shows (object-fit: cover in a square frame). */
  crop(): { sx: number; sy: number; side: number } {
    const w = this.video.videoWidth;
    const h = this.video.videoHeight;
    const side = Math.min(w, h);
    return { sx: (w - side) / 2, sy: (h - side) / 2, side };
  }

  /**
   * The whole current frame (the worker crops it as the model needs), scaled by `scale(width,
   * height)` (at most 1) with the browser's filter of that quality.
   */
  async grab(scale: (width: number, height: number) => number, quality: ResizeQuality = 'medium'): Promise<ImageBitmap> {
    const w = this.video.videoWidth;
    const h = this.video.videoHeight;
    if (!w || !h) throw new CameraError('The camera has not delivered a frame yet; try again in a moment.');
    const s = Math.min(1, scale(w, h));
    if (s === 1) return createImageBitmap(this.video);
    return createImageBitmap(this.video, { resizeWidth: Math.max(1, Math.round(w * s)), resizeHeight: Math.max(1, Math.round(h * s)), resizeQuality: quality });
  }
}
