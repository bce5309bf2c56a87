import type { FullConfig } from '@playwright/test';

/**
 * `cargo leptos end-to-end` starts the server and Playwright at the same
 * moment: the first story waits until the server answers instead of racing
 * its start-up (migrations on a fresh database, a cold machine).
 */
export default async function waitForServer(config: FullConfig): Promise<void> {
  const base = config.projects[0]?.use.baseURL ?? 'http://127.0.0.1:3000';
  const page = new URL('/login', base);
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      if ((await fetch(page)).ok) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      throw new Error(`no server answered ${page} within 120 s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
