#!/usr/bin/env node
// Turns a loopback pcap of Kafka clients talking to the mock cluster into fixture files.
//
//   node pcap-to-fixtures.mjs --pcap x.pcap --broker-ports 4001,4002 --client kcat-2.0.2 --out DIR
//        [--max-per-api 6] [--keep-all-api 0]
//
// Reassembles every TCP connection that touches a broker port (both directions, in sequence-number
// order, dropping retransmitted bytes and refusing gaps), splits each direction into Kafka frames
// (int32 size prefix), pairs responses with requests by correlation id within the connection, and
// writes DIR/<NNN>-<Api>-v<version>-<request|response>.bin (the whole frame, size prefix included)
// plus DIR/index.json. Exchanges are numbered in capture order of their request. Repetitive traffic
// (poll-loop Fetches, Heartbeats, Metadata refreshes) is thinned: an exchange is kept only when its
// request and response bytes, correlation id aside, differ from every kept exchange of the same API
// version, and at most --max-per-api such exchanges are kept per API version (APIs listed in
// --keep-all-api, e.g. 0 for Produce, are never capped).
import { readFileSync, writeFileSync, mkdirSync, readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const API_NAMES = [
  'Produce', 'Fetch', 'ListOffsets', 'Metadata', 'LeaderAndIsr', 'StopReplica', 'UpdateMetadata',
  'ControlledShutdown', 'OffsetCommit', 'OffsetFetch', 'FindCoordinator', 'JoinGroup', 'Heartbeat',
  'LeaveGroup', 'SyncGroup', 'DescribeGroups', 'ListGroups', 'SaslHandshake', 'ApiVersions',
  'CreateTopics', 'DeleteTopics', 'DeleteRecords', 'InitProducerId', 'OffsetForLeaderEpoch',
  'AddPartitionsToTxn', 'AddOffsetsToTxn', 'EndTxn', 'WriteTxnMarkers', 'TxnOffsetCommit',
  'DescribeAcls', 'CreateAcls', 'DeleteAcls', 'DescribeConfigs', 'AlterConfigs',
  'AlterReplicaLogDirs', 'DescribeLogDirs', 'SaslAuthenticate', 'CreatePartitions',
  'CreateDelegationToken', 'RenewDelegationToken', 'ExpireDelegationToken',
  'DescribeDelegationToken', 'DeleteGroups', 'ElectLeaders', 'IncrementalAlterConfigs',
  'AlterPartitionReassignments', 'ListPartitionReassignments', 'OffsetDelete',
  'DescribeClientQuotas', 'AlterClientQuotas', 'DescribeUserScramCredentials',
  'AlterUserScramCredentials', 'Vote', 'BeginQuorumEpoch', 'EndQuorumEpoch', 'DescribeQuorum',
  'AlterPartition', 'UpdateFeatures', 'Envelope', 'FetchSnapshot', 'DescribeCluster',
  'DescribeProducers', 'BrokerRegistration', 'BrokerHeartbeat', 'UnregisterBroker',
  'DescribeTransactions', 'ListTransactions', 'AllocateProducerIds', 'ConsumerGroupHeartbeat',
];
const apiName = (key) => API_NAMES[key] ?? `Api${key}`;

const { values: opts } = parseArgs({
  options: {
    pcap: { type: 'string' },
    'broker-ports': { type: 'string' },
    client: { type: 'string' },
    out: { type: 'string' },
    'max-per-api': { type: 'string', default: '6' },
    'keep-all-api': { type: 'string', default: '0' },
  },
});
for (const required of ['pcap', 'broker-ports', 'client', 'out']) {
  if (!opts[required]) throw new Error(`--${required} is required`);
}
const brokerPorts = new Set(opts['broker-ports'].split(',').map(Number));
const maxPerApi = Number(opts['max-per-api']);
const keepAllApis = new Set(opts['keep-all-api'].split(',').filter(Boolean).map(Number));

// ---- pcap parsing -------------------------------------------------------------------------------

/** Yields { time, data } for each captured link-layer packet. */
function* pcapPackets(buf) {
  const magicLE = buf.readUInt32LE(0);
  let le;
  let nanos;
  if (magicLE === 0xa1b2c3d4 || magicLE === 0xa1b23c4d) le = true;
  else if (buf.readUInt32BE(0) === 0xa1b2c3d4 || buf.readUInt32BE(0) === 0xa1b23c4d) le = false;
  else throw new Error('not a pcap file (pcapng is not supported: use tcpdump -w)');
  const magic = le ? magicLE : buf.readUInt32BE(0);
  nanos = magic === 0xa1b23c4d;
  const u32 = (o) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const linkType = u32(20);
  let pos = 24;
  while (pos + 16 <= buf.length) {
    const sec = u32(pos);
    const frac = u32(pos + 4);
    const inclLen = u32(pos + 8);
    const origLen = u32(pos + 12);
    if (inclLen < origLen) throw new Error(`packet at byte ${pos} was cut by the snap length: capture with -s 0`);
    const data = buf.subarray(pos + 16, pos + 16 + inclLen);
    if (data.length < inclLen) throw new Error('pcap file ends inside a packet');
    yield { time: sec * 1e6 + (nanos ? frac / 1000 : frac), linkType, data };
    pos += 16 + inclLen;
  }
}

/** Strips the link layer; returns the IP packet or null for non-IP frames. */
function ipPayload(linkType, data) {
  switch (linkType) {
    case 0: // BSD loopback: 4-byte address family
      return data.subarray(4);
    case 1: { // Ethernet (Linux loopback shows up as this with zero MACs)
      const etherType = data.readUInt16BE(12);
      return etherType === 0x0800 || etherType === 0x86dd ? data.subarray(14) : null;
    }
    case 113: { // Linux cooked v1
      const proto = data.readUInt16BE(14);
      return proto === 0x0800 || proto === 0x86dd ? data.subarray(16) : null;
    }
    case 276: { // Linux cooked v2
      const proto = data.readUInt16BE(0);
      return proto === 0x0800 || proto === 0x86dd ? data.subarray(20) : null;
    }
    case 101: // raw IP
      return data;
    default:
      throw new Error(`pcap link type ${linkType} is not one this tool reads (it reads BSD loopback, Ethernet, Linux cooked v1/v2 and raw IP)`);
  }
}

/** Parses IPv4/IPv6 + TCP; returns null for anything else. */
function tcpSegment(ip) {
  const version = ip[0] >> 4;
  let src;
  let dst;
  let payload;
  if (version === 4) {
    if (ip[9] !== 6) return null;
    const headerLen = (ip[0] & 0x0f) * 4;
    const totalLen = ip.readUInt16BE(2);
    src = Array.from(ip.subarray(12, 16)).join('.');
    dst = Array.from(ip.subarray(16, 20)).join('.');
    payload = ip.subarray(headerLen, totalLen);
  } else if (version === 6) {
    if (ip[6] !== 6) return null; // extension headers never appear on loopback TCP
    src = ip.subarray(8, 24).toString('hex');
    dst = ip.subarray(24, 40).toString('hex');
    payload = ip.subarray(40, 40 + ip.readUInt16BE(4));
  } else {
    return null;
  }
  const dataOffset = (payload[12] >> 4) * 4;
  const flags = payload[13];
  return {
    src: `${src}:${payload.readUInt16BE(0)}`,
    dst: `${dst}:${payload.readUInt16BE(2)}`,
    srcPort: payload.readUInt16BE(0),
    dstPort: payload.readUInt16BE(2),
    seq: payload.readUInt32BE(4),
    syn: (flags & 0x02) !== 0,
    data: payload.subarray(dataOffset),
  };
}

// ---- TCP reassembly -----------------------------------------------------------------------------

/** One direction of one connection: segments keyed by their offset in the byte stream. */
class HalfStream {
  isn = null;
  segments = [];
  add(seq, syn, data, time) {
    if (syn) {
      this.isn = seq;
      return;
    }
    if (data.length === 0) return;
    if (this.isn === null) throw new Error('data before SYN: start tcpdump before the clients');
    const offset = (seq - this.isn - 1 + 2 ** 32) % 2 ** 32;
    this.segments.push({ offset, data: Buffer.from(data), time });
  }
  /** The stream's bytes plus, for each byte range, the capture time of the segment carrying it. */
  assemble() {
    const sorted = [...this.segments].sort((a, b) => a.offset - b.offset || a.time - b.time);
    const chunks = [];
    const times = []; // [startOffset, time]
    let next = 0;
    for (const seg of sorted) {
      const end = seg.offset + seg.data.length;
      if (end <= next) continue; // retransmission of bytes we already have
      if (seg.offset > next) throw new Error(`TCP gap at stream offset ${next}: packets were dropped`);
      const fresh = seg.data.subarray(next - seg.offset);
      times.push([next, seg.time]);
      chunks.push(fresh);
      next = end;
    }
    return { bytes: Buffer.concat(chunks), times };
  }
}

function timeAt(times, offset) {
  let t = times[0]?.[1] ?? 0;
  for (const [start, time] of times) {
    if (start > offset) break;
    t = time;
  }
  return t;
}

function splitFrames(stream) {
  const frames = [];
  let pos = 0;
  while (pos + 4 <= stream.bytes.length) {
    const size = stream.bytes.readInt32BE(pos);
    if (size < 0) throw new Error(`negative frame size at stream offset ${pos}`);
    if (pos + 4 + size > stream.bytes.length) break; // cut off by the end of the capture/connection
    frames.push({ bytes: stream.bytes.subarray(pos, pos + 4 + size), time: timeAt(stream.times, pos) });
    pos += 4 + size;
  }
  return { frames, leftover: stream.bytes.length - pos };
}

// ---- main ---------------------------------------------------------------------------------------

// Every connection in capture order; `open` maps "client>broker" to the current one, so a later
// connection that reuses the same port pair (a new SYN) starts afresh.
const connections = [];
const open = new Map();
for (const packet of pcapPackets(readFileSync(opts.pcap))) {
  const ip = ipPayload(packet.linkType, packet.data);
  if (!ip) continue;
  const seg = tcpSegment(ip);
  if (!seg) continue;
  const toBroker = brokerPorts.has(seg.dstPort);
  const fromBroker = brokerPorts.has(seg.srcPort);
  if (!toBroker && !fromBroker) continue;
  const key = toBroker ? `${seg.src}>${seg.dst}` : `${seg.dst}>${seg.src}`;
  let conn = open.get(key);
  if (!conn || (toBroker && seg.syn && conn.toBroker.isn !== null && conn.toBroker.isn !== seg.seq)) {
    conn = { key, toBroker: new HalfStream(), toClient: new HalfStream() };
    open.set(key, conn);
    connections.push(conn);
  }
  (toBroker ? conn.toBroker : conn.toClient).add(seg.seq, seg.syn, seg.data, packet.time);
}

const exchanges = [];
let connectionIndex = 0;
for (const conn of connections) {
  const key = conn.key;
  const requests = splitFrames(conn.toBroker.assemble());
  const responses = splitFrames(conn.toClient.assemble());
  if (requests.leftover || responses.leftover) {
    console.warn(`${key}: ${requests.leftover}/${responses.leftover} bytes of unfinished frames at close`);
  }
  const pending = new Map();
  for (const frame of requests.frames) {
    const ex = {
      connection: connectionIndex,
      apiKey: frame.bytes.readInt16BE(4),
      apiVersion: frame.bytes.readInt16BE(6),
      correlationId: frame.bytes.readInt32BE(8),
      time: frame.time,
      request: frame.bytes,
      response: null,
    };
    if (pending.has(ex.correlationId)) throw new Error(`${key}: correlation id ${ex.correlationId} reused in flight`);
    pending.set(ex.correlationId, ex);
    exchanges.push(ex);
  }
  for (const frame of responses.frames) {
    const correlationId = frame.bytes.readInt32BE(4);
    const ex = pending.get(correlationId);
    if (!ex) throw new Error(`${key}: response with unknown correlation id ${correlationId}`);
    pending.delete(correlationId);
    ex.response = frame.bytes;
  }
  for (const ex of pending.values()) {
    console.warn(`${key}: ${apiName(ex.apiKey)} v${ex.apiVersion} request ${ex.correlationId} got no response`);
  }
  connectionIndex++;
}
exchanges.sort((a, b) => a.time - b.time);

/** Frame bytes with the correlation id zeroed, for spotting repeats. */
function withoutCorrelationId(frame, offset) {
  if (!frame) return '';
  const copy = Buffer.from(frame);
  copy.writeInt32BE(0, offset);
  return copy.toString('base64');
}

const seen = new Map(); // "key/version" -> Set of content keys
const kept = [];
for (const ex of exchanges) {
  const apiId = `${ex.apiKey}/${ex.apiVersion}`;
  const contents = seen.get(apiId) ?? new Set();
  seen.set(apiId, contents);
  const content = withoutCorrelationId(ex.request, 8) + '|' + withoutCorrelationId(ex.response, 4);
  if (contents.has(content)) continue;
  if (!keepAllApis.has(ex.apiKey) && contents.size >= maxPerApi) continue;
  contents.add(content);
  kept.push(ex);
}

mkdirSync(opts.out, { recursive: true });
for (const name of readdirSync(opts.out)) {
  if (name.endsWith('.bin') || name === 'index.json') unlinkSync(join(opts.out, name));
}
const index = [];
let seq = 0;
for (const ex of kept) {
  const stem = `${String(seq++).padStart(3, '0')}-${apiName(ex.apiKey)}-v${ex.apiVersion}`;
  const requestFile = `${stem}-request.bin`;
  writeFileSync(join(opts.out, requestFile), ex.request);
  const common = {
    client: opts.client,
    apiKey: ex.apiKey,
    apiName: apiName(ex.apiKey),
    apiVersion: ex.apiVersion,
    correlationId: ex.correlationId,
    connection: ex.connection,
  };
  index.push({ file: requestFile, direction: 'request', ...common });
  if (ex.response) {
    const responseFile = `${stem}-response.bin`;
    writeFileSync(join(opts.out, responseFile), ex.response);
    index.push({ file: responseFile, direction: 'response', ...common, answers: requestFile });
  }
}
writeFileSync(join(opts.out, 'index.json'), JSON.stringify(index, null, 2) + '\n');
const summary = new Map();
for (const ex of kept) summary.set(`${apiName(ex.apiKey)} v${ex.apiVersion}`, (summary.get(`${apiName(ex.apiKey)} v${ex.apiVersion}`) ?? 0) + 1);
console.log(`${opts.client}: ${exchanges.length} exchanges on ${connections.length} connections, kept ${kept.length}:`);
for (const [api, count] of summary) console.log(`  ${api} x${count}`);
