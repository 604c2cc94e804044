// Bad options to the stack and benchmark scripts get a clear error and exit 2, before anything
// starts (no build, no process left behind).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, test } from 'node:test';
import { repo } from './support.mjs';

function run(script, ...args) {
  const r = spawnSync('bash', [path.join(repo, script), ...args], { encoding: 'utf8', timeout: 20000 });
  return { status: r.status, stderr: r.stderr };
}

describe('script options', () => {
  const cases = [
    ['deploy/local/run.sh', ['--replicas', 'three'], /take numbers/],
    ['deploy/local/run.sh', ['--replicas', '0'], /at least 1/],
    ['deploy/local/run.sh', ['--port', '80x'], /take numbers/],
    ['deploy/local/run.sh', ['--bogus'], /unknown option --bogus/],
    ['bench/compare.sh', ['huge'], /smoke, ci, full, scale, soak or sweep \(got huge\)/],
  ];
  for (const [script, args, message] of cases) {
    test(`${script} ${args.join(' ')} is refused`, () => {
      const { status, stderr } = run(script, ...args);
      assert.equal(status, 2, stderr);
      assert.match(stderr, message);
    });
  }
});
