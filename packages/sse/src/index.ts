export { formatEvent, formatComment, type SseEvent } from './format.js';
export { EventStream, eventStream, streamEvents, type EventStreamOptions, type SlowClientPolicy, type CloseReason } from './stream.js';
export { Channel, HISTORY_GAP_EVENT, type ChannelEvent, type ChannelHooks, type SubscribeOptions } from './channel.js';
export { Hub } from './hub.js';
export { sse, sseModule, ssePublish, ssePublishModule } from './modules.js';
