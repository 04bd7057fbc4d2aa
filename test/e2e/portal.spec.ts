import { test, expect } from '@playwright/test';

const backend = 'http://localhost:7007';

test('guest sign-in shows the example catalog', async ({ page }) => {
  await page.goto('/');
  await page.getByRole('button', { name: 'Enter' }).click();
  const nav = page.getByRole('navigation', { name: 'sidebar nav' });
  await expect(
    nav.getByRole('link', { name: 'Catalog', exact: true }),
  ).toBeVisible();
  // guest is in orders-team: "Owned" lists its components; "All" lists every team's.
  await expect(page.getByRole('link', { name: 'Orders worker' })).toBeVisible();
  await page.getByText('All', { exact: true }).click();
  await expect(
    page.getByRole('link', { name: 'Billing worker' }),
  ).toBeVisible();
  await page.screenshot({
    path: 'artifacts/screenshots/catalog.png',
    fullPage: true,
  });
});

test('local personas sign in as catalog users (developer and platform engineer)', async ({
  page,
}) => {
  await page.goto('/');
  await page.getByRole('button', { name: /Priya \(platform engineer/ }).click();
  const nav = page.getByRole('navigation', { name: 'sidebar nav' });
  await expect(
    nav.getByRole('link', { name: 'Catalog', exact: true }),
  ).toBeVisible();
  const identity = await page.evaluate(async url => {
    const res = await fetch(`${url}/api/auth/localPersonas/refresh`, {
      headers: {
        'x-requested-with': 'XMLHttpRequest',
        'x-keda-portal-persona': 'platform-engineer',
      },
      credentials: 'include',
    });
    return (await res.json()).backstageIdentity.identity;
  }, backend);
  expect(identity.userEntityRef).toBe('user:default/priya');
  expect(identity.ownershipEntityRefs).toContain('group:default/platform-team');
});

test('the backend answers /api/catalog/entities with the example entities', async ({
  request,
}) => {
  const auth = await request.post(`${backend}/api/auth/guest/refresh`, {
    headers: { 'x-requested-with': 'XMLHttpRequest' },
  });
  expect(auth.ok()).toBeTruthy();
  const token = (await auth.json()).backstageIdentity.token;
  const res = await request.get(
    `${backend}/api/catalog/entities?filter=kind=component`,
    {
      headers: { authorization: `Bearer ${token}` },
    },
  );
  expect(res.ok()).toBeTruthy();
  const names = (await res.json()).map((e: any) => e.metadata.name);
  expect(names).toEqual(
    expect.arrayContaining(['orders-worker', 'billing-worker']),
  );
  const unauthenticated = await request.get(`${backend}/api/catalog/entities`);
  expect(unauthenticated.status()).toBe(401);
});
