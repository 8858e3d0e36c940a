/** The names a scaffolded project is written with, all derived from one project name. */
export interface ProjectNames {
  /** The npm package name and folder name, e.g. `order-feed`. */
  readonly name: string;
  /** The custom element's tag: the name when it has a hyphen, else the name plus `-app`. */
  readonly tag: string;
  /** The element's class name, e.g. `OrderFeed`. */
  readonly className: string;
}

/** Why a project name was refused, or `undefined` when it is usable. */
export function checkName(name: string): string | undefined {
  if (name.length === 0) return 'the name is empty';
  if (name.length > 64) return 'the name is longer than 64 characters';
  if (!/^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/.test(name)) {
    return `"${name}" is not a usable name: use lowercase letters, digits and single hyphens, starting with a letter (e.g. order-feed)`;
  }
  return undefined;
}

/**
 * Derives every name from the project name; throws with the reason when {@link checkName} refuses it.
 *
 * ```ts
 * namesFor('order-feed'); // {name: 'order-feed', tag: 'order-feed', className: 'OrderFeed'}
 * namesFor('feed'); // {name: 'feed', tag: 'feed-app', className: 'FeedApp'}
 * ```
 */
export function namesFor(name: string): ProjectNames {
  const problem = checkName(name);
  if (problem !== undefined) throw new Error(problem);
  // A custom element's name must contain a hyphen.
  const tag = name.includes('-') ? name : `${name}-app`;
  const className = tag
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
  return {name, tag, className};
}
