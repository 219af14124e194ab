/**
 * The group coordinator's shard of one __consumer_offsets partition, as the CoordinatorRuntime
 * runs it: the membership state machine (GroupMetadataManager) and the committed offsets
 * (OffsetStore) of the groups that hash to the partition, rebuilt by replaying it, plus what
 * spans both: DeleteGroups, listing and describing, and the periodic offset expiration.
 */
import { ErrorCode } from '@sluice/protocol';
import type { ReplayedMarker, ReplayedRecord } from '../coordinator/partition.js';
import type { CoordinatorShard, ShardContext } from '../coordinator/runtime.js';
import { Group } from './group.js';
import { GroupMetadataManager } from './group-metadata-manager.js';
import { OffsetStore } from './offset-store.js';
import { decodeCoordinatorKey, decodeGroupMetadataValue, decodeOffsetCommitValue, encodeGroupMetadataKey, type GroupMetadataValue } from './records.js';
import { writeErrorCode, type GroupCoordinatorEnvironment, type GroupDescription, type GroupListing } from './requests.js';

const EXPIRATION_TIMER = 'expire-offsets';

export class GroupCoordinatorShard implements CoordinatorShard {
  readonly groupMetadataManager: GroupMetadataManager;
  readonly offsetStore: OffsetStore;
  /** Each group's last GroupMetadataValue while loading (null: tombstoned); groups are built at the end. */
  private loading: Map<string, GroupMetadataValue | null> | null = new Map();

  constructor(
    private readonly context: ShardContext,
    private readonly env: GroupCoordinatorEnvironment,
  ) {
    this.groupMetadataManager = new GroupMetadataManager(context, env);
    this.offsetStore = new OffsetStore(context, env, this.groupMetadataManager);
  }

  get groups(): Map<string, Group> {
    return this.groupMetadataManager.groups;
  }

  // ------------------------------------------------------------------ CoordinatorShard

  replay(record: ReplayedRecord): void {
    try {
      const key = decodeCoordinatorKey(record.key);
      if (!key) return;
      if (key.kind === 'offset') {
        const value = record.value === null ? null : decodeOffsetCommitValue(record.value);
        if (record.producerId >= 0n) this.offsetStore.replayTransactional(key.group, key.topic, key.partition, value, record.producerId);
        else this.offsetStore.replay(key.group, key.topic, key.partition, value);
      } else this.loading?.set(key.group, record.value === null ? null : decodeGroupMetadataValue(record.value));
    } catch (err) {
      this.env.log.warn(`skipping an unreadable __consumer_offsets record at ${this.context.partition}/${record.offset}: ${(err as Error).message}`);
    }
  }

  /** A transaction marker: the producer's transactional offsets are applied (commit) or dropped. */
  replayMarker(marker: ReplayedMarker): void {
    this.offsetStore.completeTransaction(marker.producerId, marker.producerEpoch, marker.commit, true);
  }

  /** Builds the groups that have metadata or offsets left after the replay, then starts their timers. */
  onLoaded(): void {
    const metadata = this.loading ?? new Map<string, GroupMetadataValue | null>();
    this.loading = null;
    for (const groupId of new Set([...metadata.keys(), ...this.offsetStore.groupIds()])) {
      const value = metadata.get(groupId);
      if (!value && !this.offsetStore.hasOffsets(groupId)) continue;
      const group = new Group(groupId);
      if (value) group.restore(value);
      this.groups.set(groupId, group);
    }
    this.groupMetadataManager.onLoaded();
    this.scheduleExpiration();
  }

  onUnloaded(): void {
    this.groupMetadataManager.onUnloaded();
  }

  // ------------------------------------------------------------------ across membership and offsets

  listGroups(statesFilter: string[], typesFilter: string[]): GroupListing[] {
    const states = new Set(statesFilter.map((s) => s.toLowerCase()));
    const types = new Set(typesFilter.map((t) => t.toLowerCase()));
    if (types.size > 0 && !types.has('classic')) return [];
    const out = [];
    for (const group of this.groups.values()) {
      if (group.is('Dead')) continue;
      if (states.size > 0 && !states.has(group.state.toLowerCase())) continue;
      out.push({ groupId: group.groupId, protocolType: group.protocolType ?? '', state: group.state });
    }
    return out;
  }

  describeGroup(groupId: string): GroupDescription {
    const group = this.groups.get(groupId);
    if (!group) return { errorCode: ErrorCode.NONE, groupId, state: 'Dead', protocolType: '', protocolData: '', members: [] };
    return { errorCode: ErrorCode.NONE, ...group.describe() };
  }

  /** DeleteGroups for one group: only groups without members; offsets and metadata are tombstoned. */
  async deleteGroup(groupId: string): Promise<number> {
    const group = this.groups.get(groupId);
    if (!group || group.is('Dead')) return ErrorCode.GROUP_ID_NOT_FOUND;
    if (!group.is('Empty')) return ErrorCode.NON_EMPTY_GROUP;
    const now = this.context.timer.now();
    group.transitionTo('Dead', now);
    try {
      await this.context.write([...this.offsetStore.tombstones(groupId), { key: encodeGroupMetadataKey(groupId), value: null }]);
    } catch (err) {
      group.transitionTo('Empty', this.context.timer.now());
      return writeErrorCode(err, groupId, this.env.log);
    }
    // A commit that raced with the deletion started a new group, which stays.
    if (this.groups.get(groupId) === group) {
      this.groupMetadataManager.removeGroup(group);
      this.offsetStore.removeGroup(groupId);
    }
    this.env.log.info(`group ${groupId} deleted`);
    return ErrorCode.NONE;
  }

  expireOffsets(now = this.context.timer.now()): Promise<number> {
    return this.offsetStore.expireOffsets(now);
  }

  private scheduleExpiration(): void {
    this.context.timer.schedule(EXPIRATION_TIMER, this.env.config.int('offsets.retention.check.interval.ms'), () => {
      this.expireOffsets()
        .catch((err: unknown) => this.env.log.warn(`offset expiration failed: ${(err as Error).message}`))
        // Once the shard is unloaded the runtime's timer ignores this.
        .finally(() => this.scheduleExpiration());
    });
  }
}
