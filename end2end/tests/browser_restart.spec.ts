import { test, expect } from '@playwright/test';
import { persistentCookies, register, signIn, uniqueUser } from './helpers';

// A "browser restart": a fresh context that gets only the cookies a browser
// keeps on disk, the ones with an expiry date.
for (const remember of [true, false]) {
  test(`after a browser restart the user is ${remember ? 'still signed in with' : 'signed out without'} "keep me signed in"`, async ({ browser }) => {
    const username = uniqueUser(remember ? 'kept' : 'forgotten');
    const before = await browser.newContext();
    const page = await before.newPage();
    await register(page, username);
    await signIn(page, username, remember);
    const kept = await persistentCookies(before);
    await before.close();

    const after = await browser.newContext();
    await after.addCookies(kept);
    const restarted = await after.newPage();
    await restarted.goto('/dashboard');
    if (remember) {
      await expect(restarted).toHaveURL(/\/dashboard$/);
      await expect(restarted.getByTestId('username')).toHaveText(username);
    } else {
      await expect(restarted).toHaveURL(/\/login\?next=\/dashboard$/);
    }
    await after.close();
  });
}
