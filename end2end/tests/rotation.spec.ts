import { test, expect, type BrowserContext } from '@playwright/test';
import { hydrated, register, registerAndSignInByForms, signIn, uniqueUser } from './helpers';

// The test command serves the suite with SESSION_ROTATION_INTERVAL_SECS=2, so
// a session's id is replaced every few requests here (#22). These stories
// prove that rotation never signs anyone out.

async function sessionId(context: BrowserContext): Promise<string> {
  const cookie = (await context.cookies()).find((c) => c.name === 'session');
  expect(cookie, 'a session cookie').toBeTruthy();
  return cookie!.value;
}

test('three tabs of one browser stay signed in across rotations', async ({ context }) => {
  const username = uniqueUser('tabs');
  const first = await context.newPage();
  await register(first, username);
  await signIn(first, username, true);
  const tabs = [first, await context.newPage(), await context.newPage()];
  for (const tab of tabs.slice(1)) {
    await tab.goto('/dashboard');
    await hydrated(tab);
  }
  const ids = new Set([await sessionId(context)]);
  for (let round = 0; round < 4; round++) {
    await new Promise((done) => setTimeout(done, 2_100));
    // Every tab at once, across the rotation.
    await Promise.all(
      tabs.map((tab, n) => tab.goto(n === 1 ? '/account' : '/dashboard')),
    );
    for (const tab of tabs) {
      await expect(tab).not.toHaveURL(/\/login/);
      await expect(tab.getByTestId('username')).toHaveText(username);
    }
    ids.add(await sessionId(context));
  }
  expect(ids.size, 'the id was replaced (is rotation on for the suite?)').toBeGreaterThan(2);
  // Still one session on the account page.
  await tabs[1].goto('/account');
  await hydrated(tabs[1]);
  await expect(tabs[1].getByTestId('session')).toHaveCount(1);
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('browsing across rotations keeps the user signed in', async ({ page, context }) => {
    const username = uniqueUser('nojs-rotation');
    await registerAndSignInByForms(page, username);
    const ids = new Set([await sessionId(context)]);
    for (let round = 0; round < 3; round++) {
      await new Promise((done) => setTimeout(done, 2_100));
      await page.goto(round % 2 ? '/dashboard' : '/account');
      await expect(page).not.toHaveURL(/\/login/);
      ids.add(await sessionId(context));
    }
    expect(ids.size).toBeGreaterThan(2);
    await page.goto('/dashboard');
    await expect(page.getByTestId('username')).toHaveText(username);
  });
});
