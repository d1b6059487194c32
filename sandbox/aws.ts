// The AWS sandbox: a local AWS speaking the SDK's wire protocols (sandbox/aws/server.ts, one module
// per service beside it) over the live organisation of sandbox/types.ts.
export * from './aws/server.ts';
export * from './types.ts';
