// The differentiable API users call. The engine's plumbing (record, Node, the rule tables,
// apply) is exported from src/internals.ts (`spikessl/internals`) instead.
export { backward, noGrad, isGradEnabled, setAnomalyDetection } from './engine';
export type { BackwardOptions } from './engine';
export * from './functional';
