/**
 * Long-poll support: fetches that must wait (min.bytes not reached) park here on the partitions
 * they read, and are woken when an append lands on any of them, or when the broker stops.
 */
export class PartitionWaiters {
  private readonly waiters = new Map<string, Set<() => void>>();

  private static key(topic: string, partition: number): string {
    return `${topic}\u0000${partition}`;
  }

  /**
   * Calls `wake` (at most once) on the next append to any of `partitions`; returns a function
   * that unregisters it.
   */
  watch(partitions: Iterable<{ topic: string; partition: number }>, wake: () => void): () => void {
    const keys: string[] = [];
    let fired = false;
    const once = () => {
      if (fired) return;
      fired = true;
      cancel();
      wake();
    };
    const cancel = () => {
      for (const k of keys) {
        const set = this.waiters.get(k);
        if (!set) continue;
        set.delete(once);
        if (set.size === 0) this.waiters.delete(k);
      }
    };
    for (const { topic, partition } of partitions) {
      const k = PartitionWaiters.key(topic, partition);
      let set = this.waiters.get(k);
      if (!set) this.waiters.set(k, (set = new Set()));
      set.add(once);
      keys.push(k);
    }
    return cancel;
  }

  notify(topic: string, partition: number): void {
    const set = this.waiters.get(PartitionWaiters.key(topic, partition));
    if (!set) return;
    for (const wake of [...set]) wake();
  }

  /** Wakes every waiter (shutdown: parked fetches answer with what they have). */
  wakeAll(): void {
    const all = new Set<() => void>();
    for (const set of this.waiters.values()) for (const w of set) all.add(w);
    for (const wake of all) wake();
  }

  get size(): number {
    let n = 0;
    for (const set of this.waiters.values()) n += set.size;
    return n;
  }
}
