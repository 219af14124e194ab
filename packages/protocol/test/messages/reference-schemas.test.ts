// Compares our declarations with Apache Kafka's message schemas, when they are present beside the
// repository, field by field and version by version, so that drift from upstream is caught.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { allDeclarations } from '../../src/messages/declarations/all.js';
import { parseVersions, type FieldDecl, type MessageDecl, type Versions } from '../../src/messages/declarations/types.js';
import { referenceSchemaDir } from './paths.js';

interface RefField {
  name: string;
  type: string;
  versions: string;
  nullableVersions?: string;
  tag?: number;
  taggedVersions?: string;
  default?: string | number | boolean;
  flexibleVersions?: string;
  fields?: RefField[];
}
interface RefSchema {
  name: string;
  type: string;
  apiKey?: number;
  listeners?: string[];
  validVersions: string;
  latestVersionUnstable?: boolean;
  flexibleVersions?: string;
  fields: RefField[];
  commonStructs?: Array<{ name: string; versions: string; fields: RefField[] }>;
}

const EXTRA = new Set(['RequestHeader', 'ResponseHeader', 'ConsumerProtocolSubscription', 'ConsumerProtocolAssignment']);
/** Declared from Kafka's group-coordinator schemas, which the client-protocol reference does not hold. */
const OUTSIDE_REFERENCE = new Set(['OffsetCommitKey', 'OffsetCommitValue', 'GroupMetadataKey', 'GroupMetadataValue']);
const camel = (s: string): string => s[0].toLowerCase() + s.slice(1);

function loadReference(dir: string): RefSchema[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8').replace(/^\s*\/\/.*$/gm, '')) as RefSchema);
}

function sameVersions(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  const x = parseVersions(a as Versions);
  const y = parseVersions(b as Versions);
  const empty = (r: { min: number; max: number }) => r.max < r.min;
  return (empty(x) && empty(y)) || (x.min === y.min && x.max === y.max);
}

function compareFields(path: string, ours: readonly FieldDecl[], ref: readonly RefField[], problems: string[]): void {
  if (ours.length !== ref.length) problems.push(`${path}: ${ours.length} fields, reference has ${ref.length}`);
  for (let i = 0; i < Math.min(ours.length, ref.length); i++) {
    const o = ours[i];
    const r = ref[i];
    const p = `${path}.${r.name}`;
    if (camel(r.name) !== o.name) problems.push(`${p}: named ${o.name}`);
    if (o.type !== r.type) problems.push(`${p}: type ${o.type}, reference ${r.type}`);
    if (!sameVersions(o.versions, r.versions)) problems.push(`${p}: versions ${o.versions}, reference ${r.versions}`);
    if (!sameVersions(o.nullable, r.nullableVersions)) problems.push(`${p}: nullable ${o.nullable}, reference ${r.nullableVersions}`);
    if (o.tag !== r.tag) problems.push(`${p}: tag ${o.tag}, reference ${r.tag}`);
    if (!sameVersions(o.taggedVersions, r.taggedVersions)) problems.push(`${p}: taggedVersions ${o.taggedVersions}, reference ${r.taggedVersions}`);
    const refDefault = r.default === undefined ? undefined : String(r.default);
    if (o.default !== refDefault) problems.push(`${p}: default ${o.default}, reference ${refDefault}`);
    if (!sameVersions(o.flexible, r.flexibleVersions)) problems.push(`${p}: flexible ${o.flexible}, reference ${r.flexibleVersions}`);
    if ((o.fields === undefined) !== (r.fields === undefined)) problems.push(`${p}: inline struct fields differ in presence`);
    if (o.fields && r.fields) compareFields(p, o.fields, r.fields, problems);
  }
}

function compareMessage(ours: MessageDecl, ref: RefSchema, problems: string[]): void {
  const p = ref.name;
  if (ours.kind !== ref.type) problems.push(`${p}: kind ${ours.kind}, reference ${ref.type}`);
  if (ours.apiKey !== ref.apiKey) problems.push(`${p}: apiKey ${ours.apiKey}, reference ${ref.apiKey}`);
  if (!sameVersions(ours.validVersions, ref.validVersions)) problems.push(`${p}: validVersions ${ours.validVersions}, reference ${ref.validVersions}`);
  if ((ours.latestVersionUnstable ?? false) !== (ref.latestVersionUnstable ?? false)) problems.push(`${p}: latestVersionUnstable differs`);
  if (!sameVersions(ours.flexibleVersions, ref.flexibleVersions ?? 'none')) problems.push(`${p}: flexibleVersions ${ours.flexibleVersions}, reference ${ref.flexibleVersions}`);
  compareFields(p, ours.fields, ref.fields, problems);
  const oc = ours.commonStructs ?? [];
  const rc = ref.commonStructs ?? [];
  if (oc.length !== rc.length) problems.push(`${p}: ${oc.length} common structs, reference ${rc.length}`);
  for (let i = 0; i < Math.min(oc.length, rc.length); i++) {
    if (oc[i].name !== rc[i].name) problems.push(`${p}: common struct ${oc[i].name}, reference ${rc[i].name}`);
    if (!sameVersions(oc[i].versions, rc[i].versions)) problems.push(`${p}.${rc[i].name}: versions differ`);
    compareFields(`${p}.${rc[i].name}`, oc[i].fields, rc[i].fields, problems);
  }
}

test('declarations match the reference Kafka schemas field by field', (t) => {
  const dir = referenceSchemaDir();
  if (!existsSync(dir)) {
    t.skip('reference not present');
    return;
  }
  const ref = loadReference(dir);
  const brokerKeys = new Set(ref.filter((s) => s.type === 'request' && (s.listeners ?? []).includes('broker')).map((s) => s.apiKey));
  assert.equal(brokerKeys.size, 72, 'the reference lists 72 APIs served by brokers');
  const selected = ref.filter((s) => (s.apiKey !== undefined && brokerKeys.has(s.apiKey) && (s.type === 'request' || s.type === 'response')) || EXTRA.has(s.name));
  const ours = new Map(allDeclarations.map((d) => [d.name, d]));
  assert.deepEqual([...ours.keys()].filter((n) => !OUTSIDE_REFERENCE.has(n)).sort(), selected.map((s) => s.name).sort(), 'the same set of messages is declared');
  const problems: string[] = [];
  for (const s of selected) compareMessage(ours.get(s.name) as MessageDecl, s, problems);
  assert.deepEqual(problems, []);
});
