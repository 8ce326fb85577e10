export { backward, noGrad, isGradEnabled, record, setAnomalyDetection, Node } from './engine';
export type { BackwardFn, BackwardOptions } from './engine';
export { RULES, apply } from './ops';
export type { Ctx, OpName, OpSpec, OpSpecs, Rule } from './ops';
export * from './functional';
