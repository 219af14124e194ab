/** Single Message Transforms and their predicates (Kafka's `Transformation`/`Predicate`). */
import type { ConfigDef } from '../api/config-def.js';
import type { ConnectRecord } from '../data/schema.js';

export interface Transformation {
  config(): ConfigDef;
  configure(props: Record<string, string>): void;
  /** The changed record, or null to drop it. The input is never modified. */
  apply<R extends ConnectRecord>(record: R): R | null;
  close(): void;
}

export interface Predicate {
  config(): ConfigDef;
  configure(props: Record<string, string>): void;
  test(record: ConnectRecord): boolean;
  close(): void;
}

export type TransformationConstructor = new () => Transformation;
export type PredicateConstructor = new () => Predicate;
