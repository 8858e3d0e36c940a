/**
 * The lab: the kit's packages from source, on a page of their own, for tests of behaviour only a
 * real browser has (shadow DOM, the context protocol, BroadcastChannel, Lit's lifecycle).
 * Specs drive it through `window.lab`.
 */
import * as bus from '@switchboard/bus';
import * as contracts from '@switchboard/contracts';
import {BusController, SwitchboardElement} from '@switchboard/lit';
import {html, LitElement} from 'lit';
import {z} from 'zod';

declare global {
  interface Window {
    lab: typeof lab;
  }
}

const lab = {...bus, ...contracts, BusController, SwitchboardElement, LitElement, html, z};
window.lab = lab;
document.body.dataset['ready'] = 'true';
