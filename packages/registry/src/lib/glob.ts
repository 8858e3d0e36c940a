/** Whether `type` matches `pattern`, where `*` stands for any run of characters (`order.*`). */
export function matchesType(pattern: string, type: string): boolean {
  if (!pattern.includes('*')) return pattern === type;
  const source = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*');
  return new RegExp(`^${source}$`).test(type);
}
