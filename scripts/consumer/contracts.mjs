// The user's one event contract, shared by the server and the Node client.
import {defineEvent} from '@switchboard/contracts';
import {z} from 'zod';

export const Greeted = defineEvent({
  type: 'greeting.sent',
  version: 1,
  description: 'Someone said hello.',
  schema: z.object({text: z.string().min(1).max(200)}),
});
