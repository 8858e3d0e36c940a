/** What each template makes. */
export const TEMPLATES = {
  lit: 'a micro frontend: a Lit custom element, its contract, a standalone page, a Playwright test, a deploy script',
  react: 'a micro frontend written in React (with @switchboard/react), shipped as a custom element',
  vanilla: 'a micro frontend as a plain custom element, no framework',
  shell: 'a shell page that mounts micro frontends and a hub server that pushes events to them',
} as const;

/** A template's name. */
export type TemplateName = keyof typeof TEMPLATES;

/** Whether `name` is one of {@link TEMPLATES}. */
export function isTemplate(name: string): name is TemplateName {
  return Object.hasOwn(TEMPLATES, name);
}
