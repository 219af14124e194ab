/**
 * The topic-config catalogue and parsing the config handlers need, so handlers reach storage only
 * through the broker's own layers (the ReplicaManager for partitions, this for config rules).
 */
export { brokerTopicDefaults, parseTopicConfig, topicConfigDefinition, topicConfigDefinitions } from '@sluice/storage';
