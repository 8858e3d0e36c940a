import {NestingTooDeepError} from './errors.js';

/**
 * Throws {@link NestingTooDeepError} when `value` nests arrays and objects deeper than `max` (the
 * value itself is level 1 when it is an array or object). Iterative: a deep value cannot exhaust
 * the stack here, and what passes is shallow enough for every recursive consumer after it
 * (validation, JSON.stringify, the MessagePack encoder).
 */
export function checkDepth(value: unknown, max: number): void {
  if (max === Number.POSITIVE_INFINITY || typeof value !== 'object' || value === null) return;
  const stack: Array<{readonly value: object; readonly depth: number}> = [{value, depth: 1}];
  while (stack.length > 0) {
    const {value: node, depth} = stack.pop()!;
    if (depth > max) throw new NestingTooDeepError(max);
    if (ArrayBuffer.isView(node)) continue;
    const children = Array.isArray(node) ? node : Object.values(node);
    for (const child of children) if (typeof child === 'object' && child !== null) stack.push({value: child, depth: depth + 1});
  }
}
