/**
 * spikessl/node — the Node.js entry: everything of the browser-safe entry plus file
 * access (loaders, checkpoints) that needs `node:*` modules.
 */
export * from './index';
