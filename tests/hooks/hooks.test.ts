/**
 * hooks.ts is the one place where user code runs: the factory, releaser, validate, reset and
 * event listeners. These tests pin that rule down, so that a later change cannot call user code
 * from elsewhere without the state guarantees documented on each hook.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AsyncPool } from '../../src/index.js';

const src = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '../../src');
const coreFiles = readdirSync(src).filter((name) => name.endsWith('.ts') && name !== 'hooks.ts' && name !== 'object-pool.ts');

describe('hooks: the only caller of user code', () => {
  test.each(coreFiles)('%s calls no user callback and emits no event directly', (name) => {
    const text = readFileSync(join(src, name), 'utf8');
    // Reading an option (`o.validate !== undefined`) is fine; calling one is not.
    expect(text).not.toMatch(/\b(?:o|#o|options)\.(?:factory|releaser|validate|reset)!?\(/);
    if (name !== 'events.ts') expect(text).not.toMatch(/new Emitter\b/);
  });

  test('every user callback and every listener runs, through the pool, with the resource it concerns', async () => {
    const calls: string[] = [];
    let n = 0;
    const pool = new AsyncPool({
      factory: () => {
        calls.push('factory');
        return { id: ++n };
      },
      releaser: (r) => void calls.push(`releaser ${r.id}`),
      validate: (r) => (calls.push(`validate ${r.id}`), true),
      reset: (r) => void calls.push(`reset ${r.id}`),
      validateIdleAfterMs: 0,
      maxSize: 1,
    });
    for (const event of ['create', 'acquire', 'release', 'destroy'] as const) {
      pool.on(event, (e: { resource: { id: number } }) => void calls.push(`${event} ${e.resource.id}`));
    }
    const r = await pool.acquire();
    pool.release(r);
    const again = await pool.acquire();
    await pool.destroy(again);
    await pool.dispose();
    expect(calls).toEqual([
      'factory', 'create 1', 'acquire 1', 'release 1', 'reset 1',
      'validate 1', 'acquire 1', 'destroy 1', 'releaser 1',
    ]);
  });
});
