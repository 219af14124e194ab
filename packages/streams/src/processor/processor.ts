import type { Record, RecordMetadata } from './record.js';
import type { StateStore } from '../state/store.js';

export const PunctuationType = {
  /** Fires as stream time (the largest record timestamp a task has seen) passes the interval. */
  STREAM_TIME: 'STREAM_TIME',
  /** Fires on the system clock (the test driver's clock under test). */
  WALL_CLOCK_TIME: 'WALL_CLOCK_TIME',
} as const;
export type PunctuationType = (typeof PunctuationType)[keyof typeof PunctuationType];

export type Punctuator = (timestamp: number) => void;

export interface Cancellable {
  cancel(): void;
}

/** The identity of the task a processor runs in: `<subtopology>_<partition>`. */
export interface TaskId {
  subtopology: number;
  partition: number;
}

export function taskIdString(id: TaskId): string {
  return `${id.subtopology}_${id.partition}`;
}

export interface ProcessorContext<KOut = unknown, VOut = unknown> {
  readonly applicationId: string;
  readonly taskId: TaskId;
  /** Metadata of the input record being processed; undefined inside a punctuator. */
  recordMetadata(): RecordMetadata | undefined;
  /** The task's stream time: the largest timestamp of the records it has processed. */
  currentStreamTimeMs(): number;
  currentSystemTimeMs(): number;
  /** Sends a record to all children, or to the named child only. */
  forward<K extends KOut, V extends VOut>(record: Record<K, V>, childName?: string): void;
  getStateStore<S extends StateStore>(name: string): S;
  schedule(intervalMs: number, type: PunctuationType, callback: Punctuator): Cancellable;
  /** Asks for a commit at the next opportunity (the runtime commits on its interval anyway). */
  commit(): void;
  readonly appConfigs: Readonly<globalThis.Record<string, unknown>>;
}

export interface Processor<KIn, VIn, KOut = never, VOut = never> {
  init?(context: ProcessorContext<KOut, VOut>): void;
  process(record: Record<KIn, VIn>): void;
  close?(): void;
}

/** Called once per task, so each task has its own processor instance. */
export type ProcessorSupplier<KIn, VIn, KOut = never, VOut = never> = () => Processor<KIn, VIn, KOut, VOut>;
