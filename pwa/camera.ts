/// <reference lib="dom" />
/** The camera: getUserMedia with the rear camera by default, switching, and square frames. */

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

export class Camera {
  private stream: MediaStream | null = null;
  facing: 'environment' | 'user' = 'environment';

  constructor(private readonly video: HTMLVideoElement) {}

  get running(): boolean {
    return this.stream !== null;
  }

  async start(): Promise<void> {
    if (!navigator.mediaDevices?.getUserMedia) {
      throw new CameraError(window.isSecureContext
        ? 'This browser has no camera access (getUserMedia). Pick a photo instead, or use a recent Chrome, Firefox or Safari.'
        : 'The camera only works on a secure page (https:// or localhost). Pick a photo instead.');
    }
    this.stop();
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({
        audio: false,
        video: { facingMode: { ideal: this.facing }, width: { ideal: 1280 }, height: { ideal: 720 } },
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

  async switchCamera(): Promise<void> {
    this.facing = this.facing === 'environment' ? 'user' : 'environment';
    await this.start();
  }

  stop(): void {
    this.stream?.getTracks().forEach((t) => t.stop());
    this.stream = null;
    this.video.srcObject = null;
  }

  /** The centre square of the current frame (what the preview shows with object-fit: cover). */
  crop(): { sx: number; sy: number; side: number } {
    const w = this.video.videoWidth;
    const h = this.video.videoHeight;
    const side = Math.min(w, h);
    return { sx: (w - side) / 2, sy: (h - side) / 2, side };
  }

  async grab(size: number): Promise<ImageBitmap> {
    const { sx, sy, side } = this.crop();
    if (!side) throw new CameraError('The camera has not delivered a frame yet; try again in a moment.');
    return createImageBitmap(this.video, sx, sy, side, side, { resizeWidth: size, resizeHeight: size, resizeQuality: 'medium' });
  }
}
