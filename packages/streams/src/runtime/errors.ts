/** Errors the runtime raises, and the handlers that decide whether processing continues. */

export class StreamsError extends Error {
  override name = 'StreamsException';
}

export type HandlerResponse = 'CONTINUE' | 'FAIL';

export interface DeserializationFailure {
  topic: string;
  partition: number;
  offset: number;
  error: Error;
}

/** `default.deserialization.exception.handler`: log and fail (the default) or log and continue. */
export type DeserializationExceptionHandler = (failure: DeserializationFailure) => HandlerResponse;

export interface ProductionFailure {
  topic: string;
  error: Error;
}

/** `default.production.exception.handler`: fail (the default) or continue past a record that cannot be written. */
export type ProductionExceptionHandler = (failure: ProductionFailure) => HandlerResponse;

export const LogAndFailExceptionHandler: DeserializationExceptionHandler = (f) => {
  console.error(`sluice-streams: cannot deserialize ${f.topic}-${f.partition}@${f.offset}: ${f.error.message}; failing`);
  return 'FAIL';
};

export const LogAndContinueExceptionHandler: DeserializationExceptionHandler = (f) => {
  console.warn(`sluice-streams: skipping ${f.topic}-${f.partition}@${f.offset}, which cannot be deserialized: ${f.error.message}`);
  return 'CONTINUE';
};

export const DefaultProductionExceptionHandler: ProductionExceptionHandler = () => 'FAIL';
