import type {Bus} from '@switchboard/bus';
import {AppDeployed, AppRolledBack, type CompositionApp} from '@switchboard/contracts';

/** What the shell does about one deploy it hears of. */
export type DeployAction = {readonly kind: 'ignore'} | {readonly kind: 'notify'; readonly app: CompositionApp} | {readonly kind: 'swap'; readonly app: CompositionApp};

/** A deploy or rollback as the shell hears it. */
export interface DeployNotice {
  readonly name: string;
  readonly version: string;
  readonly revision: string;
  readonly remountable: boolean;
  readonly channel: 'stable' | 'canary';
}

/**
 * Decides, purely, what a deploy means to this page: nothing when the page does not show the app,
 * already has that version, runs a local override of it, or the change is a canary this visitor was not put in; a swap in place
 * when both the deploy and the page's entry say the app is remountable; else a notice with a Reload
 * button.
 */
export function decideDeploy(notice: DeployNotice, apps: readonly CompositionApp[], mounted: ReadonlySet<string>): DeployAction {
  const app = apps.find((a) => a.name === notice.name);
  // An app a developer overrode runs their code: a deploy of it is not this page's to apply.
  if (app === undefined || app.version === notice.version || app.override === true) return {kind: 'ignore'};
  if (notice.channel === 'canary' && app.channel !== 'canary') return {kind: 'ignore'};
  if (notice.remountable && app.remountable === true && mounted.has(app.name)) return {kind: 'swap', app};
  return {kind: 'notify', app};
}

/** Calls `on` with every deploy and rollback the bus delivers (from the hub's `deploys` topic); returns a function that stops. */
export function onDeploys(bus: Bus, on: (notice: DeployNotice) => void): () => void {
  const stops = [
    bus.subscribe(AppDeployed, ({data}) => on({...data}), {name: 'switchboard:shell-deploys', replay: false}),
    bus.subscribe(AppRolledBack, ({data}) => on({...data, channel: 'stable'}), {name: 'switchboard:shell-deploys', replay: false}),
  ];
  return () => stops.forEach((stop) => stop());
}

/**
 * Shows (once per app) "A new version of <title> is available" with a Reload button at the top of
 * `root`; returns the notice element.
 */
export function showUpdateNotice(root: HTMLElement, app: CompositionApp, version: string, reload: () => void): HTMLElement {
  const doc = root.ownerDocument;
  const existing = root.querySelector<HTMLElement>(`.sb-update[data-app="${app.name}"]`);
  const notice = existing ?? doc.createElement('div');
  notice.className = 'sb-update';
  notice.dataset['app'] = app.name;
  notice.dataset['version'] = version;
  notice.setAttribute('role', 'status');
  const text = doc.createElement('span');
  text.textContent = `A new version of ${app.title} is available.`;
  const button = doc.createElement('button');
  button.type = 'button';
  button.textContent = 'Reload';
  button.addEventListener('click', reload);
  notice.replaceChildren(text, ' ', button);
  if (existing === null) root.prepend(notice);
  return notice;
}
