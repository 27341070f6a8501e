/**
 * Turns a PNG into a short Y4M video (YUV 4:2:0, BT.601 full range as Chromium's fake capture
 * reads it), the format --use-file-for-fake-video-capture plays in a loop. No ffmpeg needed.
 */
import * as fs from 'fs';
import { PNG } from 'pngjs';

export function pngToY4m(pngPath: string, outPath: string, frames = 10, fps = 10): void {
  const png = PNG.sync.read(fs.readFileSync(pngPath));
  // Even dimensions for 4:2:0.
  const w = png.width & ~1;
  const h = png.height & ~1;
  const y = Buffer.alloc(w * h);
  const u = Buffer.alloc((w / 2) * (h / 2));
  const v = Buffer.alloc((w / 2) * (h / 2));
  const px = (x: number, yy: number) => {
    const i = (yy * png.width + x) * 4;
    return [png.data[i], png.data[i + 1], png.data[i + 2]];
  };
  for (let j = 0; j < h; j++) {
    for (let i = 0; i < w; i++) {
      const [r, g, b] = px(i, j);
      y[j * w + i] = Math.round(0.299 * r + 0.587 * g + 0.114 * b);
    }
  }
  for (let j = 0; j < h / 2; j++) {
    for (let i = 0; i < w / 2; i++) {
      let r = 0, g = 0, b = 0;
      for (const [dx, dy] of [[0, 0], [1, 0], [0, 1], [1, 1]]) {
        const p = px(2 * i + dx, 2 * j + dy);
        r += p[0] / 4; g += p[1] / 4; b += p[2] / 4;
      }
      u[j * (w / 2) + i] = Math.max(0, Math.min(255, Math.round(128 - 0.168736 * r - 0.331264 * g + 0.5 * b)));
      v[j * (w / 2) + i] = Math.max(0, Math.min(255, Math.round(128 + 0.5 * r - 0.418688 * g - 0.081312 * b)));
    }
  }
  const parts: Buffer[] = [Buffer.from(`YUV4MPEG2 W${w} H${h} F${fps}:1 Ip A1:1 C420jpeg\n`)];
  for (let f = 0; f < frames; f++) parts.push(Buffer.from('FRAME\n'), y, u, v);
  fs.writeFileSync(outPath, Buffer.concat(parts));
}
