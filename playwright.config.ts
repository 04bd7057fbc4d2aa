import { defineConfig } from '@playwright/test';

/**
 * The browser suite (test/e2e). It runs the README's start command as its
 * web server (portal + local stand-ins) and drives Debian's Chromium
 * (`apt-get install chromium`): Playwright's own browser download does not
 * work on these machines.
 */
export default defineConfig({
  testDir: 'test/e2e',
  timeout: 120_000,
  expect: { timeout: 30_000 },
  // One browser against one portal: the suite shares the running backend.
  workers: 1,
  forbidOnly: !!process.env.CI,
  retries: 0,
  webServer: {
    command: 'bash scripts/start.sh',
    url: 'http://localhost:3000',
    // Locally an already running portal is reused; CI always starts its own.
    reuseExistingServer: !process.env.CI,
    // First start compiles the frontend: minutes on 2 cores.
    timeout: 600_000,
    stdout: 'pipe',
    stderr: 'pipe',
  },
  use: {
    baseURL: 'http://localhost:3000',
    actionTimeout: 30_000,
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    },
  },
  outputDir: 'test-results/e2e',
});
