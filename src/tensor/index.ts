export * from './shape';
export * from './tensor';
export * from './elementwise';
export * from './reduce';
export * from './layout';
export * from './matmul';
export { gemm } from './gemm';
export * from './conv';
