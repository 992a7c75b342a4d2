import { afterEach, describe, expect, it } from 'vitest';
import { randomAwsKey, randomGithubToken } from '../../../../../test-utils/index.js';
import type { ExecutionOutcome } from '../../store/repositories/sandbox-executions.js';
import { maskInput, maskOutcome } from './execution-redaction.js';
import { MaskingPool } from './masking-pool.js';

const aws = randomAwsKey;
const github = randomGithubToken;
const KEYWORDS = 'api_key=1 token: secret password AKIA ghp_ xoxb- sk_live_ glpat- -----BEGIN '.repeat(40);

/** An outcome large enough to go to a worker: 200 log lines full of keywords, secrets in every stored form. */
function largeOutcome(secrets: { aws: string; github: string }): ExecutionOutcome {
  const logs = Array.from({ length: 200 }, (_, i) => ({ level: 'info', message: i === 100 ? `key ${secrets.aws.slice(0, 8)}` : i === 101 ? secrets.aws.slice(8) : KEYWORDS, t_ms: i }));
  return {
    status: 'failed', output: { deploy: { token: secrets.github } }, error: { code: 'GUEST_ERROR', message: `refused ${secrets.aws}` }, logs,
    hostCallAudit: [{ fn: 'read_context', args_summary: `key=cache/${secrets.github}`, allowed: true, duration_ms: 0, t_ms: 1 }],
    resourceUsage: { cpu_ms: 1 }, violationCount: 0, wasTerminated: false, terminationReason: null, outputHash: 'sha256:raw', finishedAt: 1,
  };
}

describe('MaskingPool', () => {
  let pool: MaskingPool | undefined;
  afterEach(async () => {
    await pool?.close();
  });

  it('masks a large outcome in a worker exactly as inline masking does, while this thread keeps running timers', async () => {
    const secrets = { aws: aws(), github: github() };
    const fallbacks: string[] = [];
    pool = new MaskingPool({ onFallback: (reason) => fallbacks.push(reason) });
    const order: string[] = [];
    const timer = setTimeout(() => order.push('timer'), 0);
    const masked = await pool.maskOutcome(largeOutcome(secrets));
    order.push('masked');
    clearTimeout(timer);

    expect(fallbacks).toEqual([]);
    expect(order).toEqual(['timer', 'masked']);
    expect(masked).toEqual(maskOutcome(largeOutcome(secrets)));
    expect(masked.outcome.logs[100]).toMatchObject({ message: 'key [REDACTED:aws-access-token]' });
    const text = JSON.stringify(masked);
    for (const secret of [secrets.aws.slice(4), secrets.github.slice(4)]) expect(text).not.toContain(secret);
  });

  it('masks a large input in a worker, with the hash of the masked form', async () => {
    const secret = github();
    const input = { task: 'deploy', notes: Array.from({ length: 100 }, () => KEYWORDS), token: secret };
    pool = new MaskingPool({ onFallback: (reason) => expect.fail(reason) });
    const masked = await pool.maskInput(input);
    expect(masked).toEqual(maskInput(input));
    expect(masked.value).toMatchObject({ token: '[REDACTED:github-pat]' });
  });

  it('masks inline when a worker cannot run, and says so', async () => {
    const secrets = { aws: aws(), github: github() };
    const fallbacks: string[] = [];
    pool = new MaskingPool({ workerEntry: new URL('./no-such-worker.js', import.meta.url), onFallback: (reason) => fallbacks.push(reason) });
    const masked = await pool.maskOutcome(largeOutcome(secrets));
    expect(masked).toEqual(maskOutcome(largeOutcome(secrets)));
    expect(fallbacks).toHaveLength(1);
  });

  it('serves several executions at once and starts again after close', async () => {
    pool = new MaskingPool({ maxWorkers: 2, onFallback: (reason) => expect.fail(reason) });
    const outcomes = Array.from({ length: 3 }, () => largeOutcome({ aws: aws(), github: github() }));
    const masked = await Promise.all(outcomes.map((outcome) => pool!.maskOutcome(outcome)));
    expect(masked).toEqual(outcomes.map((outcome) => maskOutcome(outcome)));
    await pool.close();
    const again = largeOutcome({ aws: aws(), github: github() });
    expect(await pool.maskOutcome(again)).toEqual(maskOutcome(again));
  });

  it('masks a small outcome the same way (inline, no worker round trip)', async () => {
    const secret = github();
    const small: ExecutionOutcome = { ...largeOutcome({ aws: aws(), github: secret }), logs: [{ level: 'info', message: `token ${secret}`, t_ms: 0 }] };
    pool = new MaskingPool({ workerEntry: new URL('./no-such-worker.js', import.meta.url), onFallback: (reason) => expect.fail(reason) });
    const masked = await pool.maskOutcome(small);
    expect(masked).toEqual(maskOutcome(small));
    expect(masked.outcome.logs).toEqual([{ level: 'info', message: 'token [REDACTED:github-pat]', t_ms: 0 }]);
  });
});
