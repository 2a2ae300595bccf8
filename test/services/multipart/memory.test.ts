// Memory held for attachments nobody opens stays within the store's budget, including what the
// errors that record their dropping could otherwise keep alive.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { FIXTURES } from '../../support/fixtures';

it('releases the bytes of dropped attachments (280 MB fed, budget 32 MiB)', () => {
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', join(FIXTURES, 'scripts', 'unclaimed-memory.ts')], {
    encoding: 'utf8',
    cwd: join(__dirname, '..', '..', '..'),
  });
  expect(r.stderr).toBe('');
  const { held, unclaimed, fed } = JSON.parse(r.stdout) as { held: number; unclaimed: number; fed: number };
  expect(fed).toBeGreaterThan(280_000_000);
  expect(unclaimed).toBeLessThanOrEqual(32 * 1024 * 1024);
  expect(held).toBeLessThan(48 * 1024 * 1024);
});
