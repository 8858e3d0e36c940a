/** Everything the kit puts on a page besides lit and zod: what the size report measures. */
export * from '@switchboard/contracts';
export * from '@switchboard/bus';
export * from '@switchboard/lit';
