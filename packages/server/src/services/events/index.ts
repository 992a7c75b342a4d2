export { EventService, MAX_EVENTS_PER_BATCH, DEFAULT_EVENT_PAGE_SIZE, MAX_EVENT_PAGE_SIZE, MAX_EVENT_PAGE_BYTES } from './event-service.js';
export type { EventServiceDeps, EventListQuery, EventView, IncomingEvent } from './event-service.js';
export { encodeCursor, decodeCursor } from './cursor.js';
export type { EventCursor } from './cursor.js';
