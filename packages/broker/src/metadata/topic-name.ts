/**
 * Kafka's topic name rules: 1–249 characters from [a-zA-Z0-9._-], not "." or "..". Names that
 * differ only by '.' versus '_' collide (metric names cannot tell them apart), so a new topic
 * whose name collides with an existing one is refused.
 */
export const MAX_TOPIC_NAME_LENGTH = 249;
const LEGAL = /^[a-zA-Z0-9._-]+$/;

/** Why `name` is not a legal topic name, or null when it is. */
export function topicNameProblem(name: string | null | undefined): string | null {
  if (name === null || name === undefined || name.length === 0) return 'Topic name is illegal, it can\'t be empty';
  if (name === '.' || name === '..') return 'Topic name cannot be "." or ".."';
  if (name.length > MAX_TOPIC_NAME_LENGTH) {
    return `Topic name is illegal, it can't be longer than ${MAX_TOPIC_NAME_LENGTH} characters, topic name: ${name}`;
  }
  if (!LEGAL.test(name)) {
    return `Topic name "${name}" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'`;
  }
  return null;
}

export function hasCollisionChars(name: string): boolean {
  return name.includes('.') || name.includes('_');
}

/** The existing topic that `name` collides with ('.' and '_' treated alike), or null. */
export function collidingTopic(name: string, existing: Iterable<string>): string | null {
  if (!hasCollisionChars(name)) return null;
  const unified = name.replaceAll('.', '_');
  for (const other of existing) {
    if (other !== name && hasCollisionChars(other) && other.replaceAll('.', '_') === unified) return other;
  }
  return null;
}

/** Topics the broker itself owns; clients see them flagged internal in Metadata. */
export const INTERNAL_TOPICS: ReadonlySet<string> = new Set(['__consumer_offsets', '__transaction_state', '__share_group_state']);

export function isInternalTopic(name: string): boolean {
  return INTERNAL_TOPICS.has(name);
}
