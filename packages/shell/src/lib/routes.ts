/**
 * Route matching, pure: no DOM, no history. A path pattern is segments separated by `/`; a segment
 * `:name` captures one segment, a last segment `*` captures the rest. Nested routes' paths are
 * relative to their parent's.
 */

/** One slot of a route: a named place on the page and the apps it shows. */
export interface SlotLayout {
  /** The slot's name; the shell renders it into `[data-slot="<name>"]` inside its root, or appends one. */
  readonly name: string;
  /** Names of composition apps shown here, in order. */
  readonly apps: readonly string[];
  /** Text shown in each app's frame while its module loads; default `Loading <title>…`. */
  readonly loading?: string;
  /** Text shown when the app could not be loaded; `{title}` and `{error}` are replaced; default `{title} is unavailable: {error}`. */
  readonly error?: string;
  /** Class of each app's frame element (a `<section>`); default `sb-app`. */
  readonly frameClass?: string;
}

/** One route: a path pattern, the slots it fills, and routes nested inside it. */
export interface RouteLayout {
  /** `/`, `/ops`, `/orders/:id`, `/docs/*`; a nested route's path is relative to its parent's. */
  readonly path: string;
  /** Shown in `document.title` while active (the innermost route's title wins). */
  readonly title?: string;
  readonly slots?: readonly SlotLayout[];
  readonly routes?: readonly RouteLayout[];
}

/**
 * A whole layout, in the manner of single-spa-layout: routes → slots → apps, and what to show on a
 * path no route matches (the default route, a 404).
 *
 * ```ts
 * const layout: Layout = {
 *   routes: [
 *     {path: '/', slots: [{name: 'main', apps: ['order-form', 'order-tracker']}]},
 *     {path: '/ops', title: 'Operations', slots: [{name: 'main', apps: ['live-metrics']}]},
 *   ],
 *   notFound: {title: 'Not found', slots: [{name: 'main', apps: []}], message: 'No page here.'},
 * };
 * ```
 */
export interface Layout {
  readonly routes: readonly RouteLayout[];
  /** The default route: shown when no route matches. Without one, an unknown path shows a plain "not found". */
  readonly notFound?: {readonly title?: string; readonly message?: string; readonly slots?: readonly SlotLayout[]};
  /** Slots shown on every route (a header app, a notification area). */
  readonly always?: readonly SlotLayout[];
}

/** The routes matched by a path, outermost first, with the parameters they captured. */
export interface RouteMatch {
  readonly chain: readonly RouteLayout[];
  readonly params: Readonly<Record<string, string>>;
  /** No route matched: the layout's default route is shown. */
  readonly notFound: boolean;
}

function segments(path: string): string[] {
  return path.split('/').filter((s) => s !== '');
}

/** Matches `pattern`'s segments at the start of `parts`; returns how many it used and what it captured, or null. */
function matchPrefix(pattern: readonly string[], parts: readonly string[], params: Record<string, string>): number | null {
  let i = 0;
  for (; i < pattern.length; i++) {
    const p = pattern[i]!;
    if (p === '*' && i === pattern.length - 1) {
      params['*'] = parts.slice(i).map(decodeURIComponent).join('/');
      return parts.length;
    }
    const part = parts[i];
    if (part === undefined) return null;
    if (p.startsWith(':')) params[p.slice(1)] = decodeURIComponent(part);
    else if (p !== part) return null;
  }
  return i;
}

function matchIn(routes: readonly RouteLayout[], parts: readonly string[]): {chain: RouteLayout[]; params: Record<string, string>} | null {
  for (const route of routes) {
    const params: Record<string, string> = {};
    const used = matchPrefix(segments(route.path), parts, params);
    if (used === null) continue;
    const rest = parts.slice(used);
    if (route.routes !== undefined && route.routes.length > 0) {
      const inner = matchIn(route.routes, rest);
      if (inner !== null) return {chain: [route, ...inner.chain], params: {...params, ...inner.params}};
    }
    if (rest.length === 0) return {chain: [route], params};
  }
  return null;
}

/** The routes `pathname` activates: the first route (in layout order) whose whole path matches, with its parents. */
export function matchRoute(layout: Layout, pathname: string): RouteMatch {
  const found = matchIn(layout.routes, segments(pathname));
  return found === null ? {chain: [], params: {}, notFound: true} : {...found, notFound: false};
}

/** Every slot a match shows, in layout order: the `always` slots, then each route's from the outermost in. */
export function activeSlots(layout: Layout, match: RouteMatch): SlotLayout[] {
  const own = match.notFound ? (layout.notFound?.slots ?? []) : match.chain.flatMap((r) => r.slots ?? []);
  return [...(layout.always ?? []), ...own];
}

/** Checks a layout against the apps known; returns the problems (an unknown app, a slot without a name), empty when fine. */
export function checkLayout(layout: Layout, apps: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  const slots = (list: readonly SlotLayout[] | undefined, where: string): void => {
    for (const slot of list ?? []) {
      if (typeof slot.name !== 'string' || slot.name === '') problems.push(`${where}: a slot needs a name`);
      for (const app of slot.apps ?? []) if (!apps.has(app)) problems.push(`${where}, slot "${slot.name}": no app "${app}" in the composition`);
    }
  };
  const walk = (routes: readonly RouteLayout[], prefix: string): void => {
    for (const route of routes) {
      const where = `route ${prefix}${route.path}`;
      if (typeof route.path !== 'string') problems.push(`${where}: a route needs a path`);
      slots(route.slots, where);
      walk(route.routes ?? [], `${prefix}${route.path.replace(/\/$/, '')}`);
    }
  };
  walk(layout.routes, '');
  slots(layout.always, 'always');
  slots(layout.notFound?.slots, 'notFound');
  return problems;
}
