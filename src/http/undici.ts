/**
 * Loads undici on first use: commands that never call the tenant do not pay for it. undici is CommonJS, so `default`
 * holds its exports both in Node's ESM loader and in the CLI bundle (where named exports are absent).
 */
export async function loadUndici(): Promise<typeof import('undici').default> {
  return (await import('undici')).default;
}
