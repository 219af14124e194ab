/**
 * Progress for long operations, on stderr so it never mixes with the data on stdout. On a terminal
 * one line is redrawn in place; otherwise (a log file, CI) a line is printed at most every
 * `intervalMs` so logs stay readable.
 */
import type { ToolIo } from './io.js';

export class Progress {
  private lastPrinted: number;
  private drawn = false;

  /** Nothing is shown before `intervalMs` (100 ms on a terminal): quick operations stay silent. */
  constructor(
    private readonly io: ToolIo,
    private readonly intervalMs = 5000,
    private readonly now: () => number = Date.now,
  ) {
    this.lastPrinted = now();
  }

  update(text: string): void {
    const t = this.now();
    if (this.io.stderrIsTTY) {
      if (t - this.lastPrinted < 100) return;
      this.io.stderr(`\r\x1b[K${text}`);
      this.drawn = true;
    } else {
      if (t - this.lastPrinted < this.intervalMs) return;
      this.io.stderr(`${text}\n`);
    }
    this.lastPrinted = t;
  }

  /** Clears the in-place line so the final result prints cleanly. */
  done(): void {
    if (this.drawn) this.io.stderr('\r\x1b[K');
    this.drawn = false;
  }
}
