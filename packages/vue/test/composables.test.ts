import {Bus, installPageBus} from '@switchboard/bus';
import {defineEvent} from '@switchboard/contracts';
import {useCommand, useEvent, useRequest} from '@switchboard/vue';
import {describe, expect, it} from 'vitest';
import {effectScope} from 'vue';
import {z} from 'zod';

const Shipped = defineEvent({type: 'test.vue-shipped', schema: z.object({orderId: z.string()})});
const Restock = defineEvent({type: 'test.vue-restock', kind: 'command', schema: z.object({sku: z.string()})});
const bus = installPageBus(new Bus());

describe('Vue composables', () => {
  it('useEvent delivers while the scope lives and ends with it', () => {
    const seen: string[] = [];
    const before = bus.stats().subscriptions;
    const scope = effectScope();
    scope.run(() => useEvent(Shipped, (e) => void seen.push(e.data.orderId)));
    expect(bus.stats().subscriptions).toBe(before + 1);
    bus.publish(Shipped, {orderId: 'o-1'});
    scope.stop();
    bus.publish(Shipped, {orderId: 'o-2'});
    expect(seen).toEqual(['o-1']);
    expect(bus.stats().subscriptions).toBe(before);
  });

  it('useCommand answers, and what is pending when the scope stops is abandoned', async () => {
    let answer: (value: unknown) => void = () => {};
    const stop = bus.handle(Restock, (e) => (e.data.sku === 'now' ? 'done' : new Promise((resolve) => (answer = resolve))));
    const scope = effectScope();
    const send = scope.run(() => useCommand(Restock))!;
    await expect(send({sku: 'now'})).resolves.toBe('done');
    const pending = send({sku: 'later'});
    await Promise.resolve();
    expect(bus.stats().pendingRequests).toBe(1);
    scope.stop();
    await expect(pending).rejects.toThrow('the component was unmounted');
    expect(bus.stats().pendingRequests).toBe(0);
    answer('too late');
    stop();
  });

  it('useRequest is typed from the contract', () => {
    const scope = effectScope();
    scope.run(() => {
      const send = useRequest<typeof Restock, string>(Restock);
      // @ts-expect-error: sku must be a string
      void send({sku: 1}).catch(() => {});
    });
    scope.stop();
  });
});
