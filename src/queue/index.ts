// The job contract (names, payloads, ids, queues), below both producers and workers.
export * from './names.ts';
export * from './payloads.ts';
export * from './queues.ts';
export * from './registry.ts';
