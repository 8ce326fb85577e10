export { atan, fastSigmoid, sigmoid, triangular, rectangular, straightThrough, custom, heaviside, surrogateSpec, surrogateFromSpec } from './surrogate';
export type { Surrogate } from './surrogate';
export { lif } from './lif';
export type { LifParameters, LifState, LifResult, ResetMechanism } from './lif';
export { spike, firingRate, spikeCount } from './functional';
export { Leaky, IF, Synaptic } from './modules';
export type { LeakyOptions, LeakyStep, IFOptions, SynapticOptions, Decay } from './modules';
