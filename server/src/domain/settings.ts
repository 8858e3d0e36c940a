import {ChangeSettings, SettingsChanged} from '@switchboard/shop-contracts';
import type {ServiceContext} from './services';

/**
 * The settings service: takes the `settings.change` command and publishes `settings.changed`, the
 * one fact every page (and the payments service, through `onChange`) follows. The setting is state
 * derived from that event, like any other read model.
 */
export function settingsService(ctx: ServiceContext, onChange: (paymentFailureRate: number) => void): void {
  ctx.defer(
    ctx.events.handle(ChangeSettings, (command) => {
      ctx.bus.publish(SettingsChanged, {paymentFailureRate: command.data.paymentFailureRate}, {source: 'service:settings', parent: command});
      return {paymentFailureRate: command.data.paymentFailureRate};
    }),
  );
  ctx.defer(ctx.bus.subscribe(SettingsChanged, (e) => onChange(e.data.paymentFailureRate), {name: 'service:settings', replay: false}));
}
