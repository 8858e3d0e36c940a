import {HubError, type Principal} from '@switchboard/hub';
import {ChangeSettings, SettingsChanged} from '@switchboard/shop-contracts';
import type {ServiceContext} from './services';

/**
 * The settings service: takes the `settings.change` command and publishes `settings.changed`, the
 * one fact every page (and the payments service, through `onChange`) follows. The setting is state
 * derived from that event, like any other read model; `reset` puts it back to the start value.
 */
export function settingsService(
  ctx: ServiceContext,
  onChange: (paymentFailureRate: number) => void,
  mayChange: (principal: Principal | undefined) => boolean = () => true,
  reset?: () => void,
): void {
  ctx.defer(
    ctx.events.handle(ChangeSettings, (command, sender) => {
      // The same rule as PUT /api/settings: with tokens on, only an admin.
      if (!mayChange(sender.principal)) throw new HubError('Forbidden: changing settings needs a token with the "admin" scope.');
      ctx.bus.publish(SettingsChanged, {paymentFailureRate: command.data.paymentFailureRate}, {source: 'service:settings', parent: command});
      return {paymentFailureRate: command.data.paymentFailureRate};
    }),
  );
  ctx.project(SettingsChanged.type, 'service:settings', (e) => onChange((e.data as {paymentFailureRate: number}).paymentFailureRate), reset);
}
