export { formatEvent, formatComment, type SseEvent } from './format.js';
export { EventStream, eventStream, streamEvents, type EventStreamOptions, type SlowClientPolicy, type CloseReason } from './stream.js';
export {
  Channel,
  HISTORY_GAP_EVENT,
  type ChannelEvent,
  type ChannelHooks,
  type ChannelOptions,
  type PublishedEvent,
  type SubscribeOptions,
} from './channel.js';
export { DEFAULT_HISTORY, DEFAULT_HISTORY_BYTES, DEFAULT_MAX_HISTORY_BYTES } from './history.js';
export { DEFAULT_METRICS_TOPICS, Hub, type BrokerOption, type HistoryLimits, type HubOptions } from './hub.js';
export { BrokerUnavailableError, type Broker, type BrokerLogger, type BrokerReplay, type Following, type TopicListener } from './broker.js';
export { RedisBroker, type RedisBrokerOptions } from './redis.js';
export { sse, sseModule, ssePublish, ssePublishModule } from './modules.js';
export { Relay, type RelayAnnounce, type RelayReply, type RelayRequest } from './relay.js';
export { RelayBroker, type RelayTransport } from './relay_broker.js';
