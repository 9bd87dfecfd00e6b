// Regenerates docs/screenshot.png: `npx playwright test --config tools/screenshot.config.ts`
import base from '../playwright.config';
import { defineConfig } from '@playwright/test';

export default defineConfig({ ...base, testDir: '.', testMatch: 'screenshot.spec.ts' });
