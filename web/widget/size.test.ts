// Size budgets of the embed files. Reads the build output, so run `npm run build:widget` first.
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const LOADER_BUDGET = 3 * 1024;
const CHAT_BUDGET = 40 * 1024;

function built(name: string): Uint8Array {
  const path = fileURLToPath(new URL(`../dist/widget/${name}`, import.meta.url));
  if (!existsSync(path)) {
    throw new Error(`${path} is missing: build the widget first (cd web && npm run build:widget)`);
  }
  return readFileSync(path);
}

const gz = (b: Uint8Array) => gzipSync(b, { level: 9 }).length;

describe('widget bundle size', () => {
  it(`loader.js is at most ${LOADER_BUDGET} bytes gzipped`, () => {
    const size = gz(built('loader.js'));
    expect(size, `loader.js is ${size} bytes gzipped; the budget is ${LOADER_BUDGET}`).toBeLessThanOrEqual(LOADER_BUDGET);
  });

  it(`chat.js with its inlined CSS is at most ${CHAT_BUDGET} bytes gzipped`, () => {
    const js = built('chat.js');
    const text = new TextDecoder().decode(js);
    expect(text, 'chat.js must carry its CSS (style.css?inline)').toContain(':host');
    const size = gz(js);
    expect(size, `chat.js is ${size} bytes gzipped; the budget is ${CHAT_BUDGET}`).toBeLessThanOrEqual(CHAT_BUDGET);
  });
});
