/** The spooling-directory connectors' settings, under the jcustenborder connector's names. */
import { accessSync, constants, statSync } from 'node:fs';
import { ConfigDef, ConfigException, Validators, type ConfigValueType } from '../../api/config-def.js';

function writableDirectory(name: string, value: ConfigValueType): void {
  const dir = String(value ?? '');
  try {
    if (!statSync(dir).isDirectory()) throw new Error('not a directory');
    accessSync(dir, constants.W_OK | constants.R_OK);
  } catch (err) {
    throw new ConfigException(name, `Invalid value ${dir} for configuration ${name}: must be an existing, writable directory (${(err as Error).message})`);
  }
}

function regex(name: string, value: ConfigValueType): void {
  try {
    new RegExp(String(value));
  } catch (err) {
    throw new ConfigException(name, `Invalid value ${String(value)} for configuration ${name}: ${(err as Error).message}`);
  }
}

export function spoolDirConfigDef(format: 'csv' | 'json' | 'line'): ConfigDef {
  const def = new ConfigDef()
    .define({ name: 'topic', type: 'STRING', importance: 'HIGH', documentation: 'The Kafka topic to write the data to.', group: 'General', validator: Validators.nonEmptyString() })
    .define({ name: 'input.path', type: 'STRING', importance: 'HIGH', documentation: 'The directory to read files that will be processed.', group: 'File System', validator: writableDirectory })
    .define({ name: 'finished.path', type: 'STRING', importance: 'HIGH', documentation: 'The directory to place files that have been successfully processed.', group: 'File System', validator: writableDirectory })
    .define({ name: 'error.path', type: 'STRING', importance: 'HIGH', documentation: 'The directory to place files in which have error(s).', group: 'File System', validator: writableDirectory })
    .define({ name: 'input.file.pattern', type: 'STRING', importance: 'HIGH', documentation: 'Regular expression to check input file names against (whole name).', group: 'File System', validator: regex })
    .define({ name: 'halt.on.error', type: 'BOOLEAN', defaultValue: true, importance: 'HIGH', documentation: 'Stop the task on a file with an error; otherwise move the file to error.path and go on.', group: 'General' })
    .define({ name: 'cleanup.policy', type: 'STRING', defaultValue: 'MOVE', importance: 'MEDIUM', documentation: 'What to do with a file once processed: MOVE to finished.path, DELETE, or NONE.', group: 'File System', validator: Validators.in('MOVE', 'DELETE', 'NONE') })
    .define({ name: 'batch.size', type: 'INT', defaultValue: 1000, importance: 'LOW', documentation: 'The number of records that should be returned with each batch.', group: 'General', validator: Validators.atLeast(1) })
    .define({ name: 'empty.poll.wait.ms', type: 'LONG', defaultValue: 500, importance: 'LOW', documentation: 'The amount of time to wait if a poll returns an empty list of records.', group: 'General', validator: Validators.atLeast(1) })
    .define({ name: 'file.minimum.age.ms', type: 'LONG', defaultValue: 0, importance: 'LOW', documentation: 'The amount of time in milliseconds after the file was last written to before the file can be processed.', group: 'File System', validator: Validators.atLeast(0) });
  if (format !== 'line') {
    def
      .define({ name: 'schema.generation.enabled', type: 'BOOLEAN', defaultValue: false, importance: 'MEDIUM', documentation: 'Infer the value schema from the file (column types from their values); otherwise every field is an optional string (CSV) or records are schemaless (JSON).', group: 'Schema' })
      .define({ name: 'schema.generation.key.fields', type: 'LIST', defaultValue: [], importance: 'MEDIUM', documentation: 'The fields that make up the record key.', group: 'Schema' });
  }
  if (format === 'csv') {
    def
      .define({ name: 'csv.first.row.as.header', type: 'BOOLEAN', defaultValue: false, importance: 'MEDIUM', documentation: 'Flag to indicate if the first row of data contains the header of the file.', group: 'CSV Parsing' })
      .define({ name: 'csv.separator.char', type: 'INT', defaultValue: 44, importance: 'LOW', documentation: 'The character that separates each field, as an integer code point (44 is a comma).', group: 'CSV Parsing', validator: Validators.between(1, 0xffff) })
      .define({ name: 'csv.quote.char', type: 'INT', defaultValue: 34, importance: 'LOW', documentation: 'The character used to quote a field, as an integer code point.', group: 'CSV Parsing', validator: Validators.between(1, 0xffff) })
      .define({ name: 'csv.null.field.indicator', type: 'STRING', defaultValue: 'NEITHER', importance: 'LOW', documentation: 'Which empty fields are null: EMPTY_SEPARATORS, EMPTY_QUOTES, BOTH or NEITHER.', group: 'CSV Parsing', validator: Validators.in('EMPTY_SEPARATORS', 'EMPTY_QUOTES', 'BOTH', 'NEITHER') });
  }
  return def;
}
