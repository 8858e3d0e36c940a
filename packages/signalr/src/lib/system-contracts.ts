import {defineEvent} from '@switchboard/contracts';
import {z} from 'zod';

/**
 * The page's hub connection changed state. Retains the last one, so an app that mounts late still
 * learns the current state.
 */
export const ConnectionChanged = defineEvent({
  type: 'switchboard.connection.changed',
  description: 'The page hub connection changed state.',
  replay: 'last',
  schema: z.object({
    url: z.string(),
    status: z.enum(['connecting', 'connected', 'reconnecting', 'offline', 'disconnected']),
    /** While reconnecting: which attempt comes next. */
    attempt: z.number().int().positive().optional(),
    /** While reconnecting: milliseconds until that attempt. */
    retryInMs: z.number().int().nonnegative().optional(),
    /** Why the last attempt failed, for a person, when the token source or the hub said why (a refused token). */
    reason: z.string().max(1000).optional(),
  }),
});

/**
 * Events of a topic were dropped by the server's retention before this page could see them: an app
 * showing that topic's state should resync it by query (e.g. `GET /api/...`).
 */
export const TopicTruncated = defineEvent({
  type: 'switchboard.topic.truncated',
  description: 'Events of a server topic were lost to retention; resync by query.',
  schema: z.object({topic: z.string(), fromOffset: z.string(), offset: z.string().nullable()}),
});
