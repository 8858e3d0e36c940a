import {defineEvent} from '@switchboard/contracts';
import {z} from 'zod';

/** The one event this micro frontend shows and sends; other apps import this contract, never the element. */
export const Greeted = defineEvent({
  type: 'greeting.sent',
  version: 1,
  kind: 'event',
  description: 'Someone said hello.',
  schema: z.object({text: z.string().min(1).max(200)}),
});

/** Every contract of this app, for the hub and for tests. */
export const contracts = [Greeted];
