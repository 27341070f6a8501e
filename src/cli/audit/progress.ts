/**
 * Progress of a batch on stderr: on a terminal one line redrawn in place (a bar, the rate and
 * the time left); otherwise (a log file, CI) a plain line every 5% or every 10 seconds.
 */
export interface ProgressStream {
  write(text: string): void;
  isTTY?: boolean;
  columns?: number;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export class Progress {
  private done = 0;
  private failed = 0;
  private readonly started = Date.now();
  private lastDraw = 0;
  private lastLineAt = Date.now();
  private lastLineDone = 0;

  constructor(private readonly stream: ProgressStream, private readonly total: number) {}

  tick(ok: boolean): void {
    this.done++;
    if (!ok) this.failed++;
    const now = Date.now();
    if (this.stream.isTTY) {
      if (now - this.lastDraw >= 100 || this.done === this.total) {
        this.lastDraw = now;
        this.stream.write(`\r\x1b[K${this.line(true)}`);
      }
    } else if (this.done === this.total || this.done - this.lastLineDone >= Math.max(1, Math.ceil(this.total / 20)) || now - this.lastLineAt >= 10_000) {
      this.lastLineAt = now;
      this.lastLineDone = this.done;
      this.stream.write(`whycam: ${this.line(false)}\n`);
    }
  }

  /** Clears the bar so the summary starts on a clean line. */
  end(): void {
    if (this.stream.isTTY && this.done > 0) this.stream.write('\r\x1b[K');
  }

  private line(bar: boolean): string {
    const seconds = (Date.now() - this.started) / 1000;
    const rate = seconds > 0 ? this.done / seconds : 0;
    const eta = rate > 0 ? (this.total - this.done) / rate : Infinity;
    const pct = this.total ? Math.floor((100 * this.done) / this.total) : 100;
    const failed = this.failed ? `, ${this.failed} failed` : '';
    const text = `${this.done}/${this.total} (${pct}%) ${rate.toFixed(1)} images/s, ${this.done === this.total ? `${formatDuration(seconds)} in all` : `ETA ${formatDuration(eta)}`}${failed}`;
    if (!bar) return text;
    const width = Math.max(10, Math.min(40, (this.stream.columns ?? 80) - text.length - 4));
    const filled = this.total ? Math.round((width * this.done) / this.total) : width;
    return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${text}`;
  }
}
