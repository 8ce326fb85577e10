// Types of scripts/serve-web.mjs for the tests that import it.
export const webDir: string;
export function buildWeb(options?: { silent?: boolean }): Promise<void>;
export function serveWeb(options?: { port?: number; host?: string; dir?: string }): Promise<{ url: string; close: () => Promise<void> }>;
