/**
 * The clock and timers a coordinator shard runs on. Timers are keyed (Kafka's CoordinatorTimer):
 * scheduling a key again replaces its timer, so the state machine names what it waits for
 * ("session of member m") instead of keeping timeout handles on its data objects, and a shard's
 * timers can all be cancelled when it unloads. Tests inject a timer whose time they advance.
 */
export interface Timer {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Runs `fn` after `delayMs`, replacing any timer scheduled under the same key. */
  schedule(key: string, delayMs: number, fn: () => void): void;
  cancel(key: string): void;
  isScheduled(key: string): boolean;
  /** Cancels every timer; later schedule() calls still work (a reloaded shard gets a new timer). */
  cancelAll(): void;
}

/** Wall-clock timers on setTimeout, unref'd so a pending timer never keeps the process alive. */
export class SystemTimer implements Timer {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  now(): number {
    return Date.now();
  }

  schedule(key: string, delayMs: number, fn: () => void): void {
    this.cancel(key);
    const handle = setTimeout(() => {
      // A timer replaced or cancelled after it was queued to run must not run.
      if (this.timers.get(key) !== handle) return;
      this.timers.delete(key);
      fn();
    }, delayMs);
    handle.unref();
    this.timers.set(key, handle);
  }

  cancel(key: string): void {
    const handle = this.timers.get(key);
    if (handle === undefined) return;
    clearTimeout(handle);
    this.timers.delete(key);
  }

  isScheduled(key: string): boolean {
    return this.timers.has(key);
  }

  cancelAll(): void {
    for (const handle of this.timers.values()) clearTimeout(handle);
    this.timers.clear();
  }
}
