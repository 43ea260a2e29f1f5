export {
  MAX_TOPIC_LENGTH,
  TopicSyntaxError,
  filterCovers,
  filterMatches,
  isInternalTopic,
  isTopicSegment,
  parseTopicFilter,
} from './topic.filter';
export type { TopicFilter } from './topic.filter';
export { TopicIndex } from './topic.index';
