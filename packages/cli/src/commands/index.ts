/** The operator tools, by subcommand name. */
import type { Tool } from '../tool/command.js';
import { dumpLogTool } from './dump-log.js';
import { consoleProducerTool } from './console-producer.js';
import { consumerGroupsTool } from './consumer-groups.js';
import { producerPerfTestTool } from './producer-perf-test.js';
import { consumerPerfTestTool } from './consumer-perf-test.js';
import { consoleConsumerTool } from './console-consumer.js';
import { topicsTool } from './topics.js';
import { configsTool } from './configs.js';
import { getOffsetsTool } from './get-offsets.js';
import { transactionsTool } from './transactions.js';
import { deleteRecordsTool } from './delete-records.js';
import { clusterTool } from './cluster.js';
import { leaderElectionTool } from './leader-election.js';
import { reassignPartitionsTool } from './reassign-partitions.js';
import { brokerApiVersionsTool } from './broker-api-versions.js';
import { logDirsTool } from './log-dirs.js';
import { aclsTool } from './acls.js';
import { topTool } from './top.js';

export const operatorTools: readonly Tool[] = [topicsTool, configsTool, consumerGroupsTool, getOffsetsTool, deleteRecordsTool, consoleProducerTool, consoleConsumerTool, producerPerfTestTool, consumerPerfTestTool, dumpLogTool, clusterTool, leaderElectionTool, reassignPartitionsTool, logDirsTool, brokerApiVersionsTool, transactionsTool, aclsTool, topTool];
