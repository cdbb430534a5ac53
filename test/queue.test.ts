// Sweeps on a real Redis queue with real worker processes: the same results as the local runner,
// a worker killed with kill -9 loses and duplicates no point, and nothing is left running.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSweep } from '../src/experiments/runner.js';
import { UserError } from '../src/util/errors.js';
import { setLogLevel } from '../src/util/log.js';

setLogLevel('silent');
const fixtures = resolve('test/fixtures/sweep');
const fakePoint = join(fixtures, 'fake-point.ts');
const fake = (...options: string[]) => [process.execPath, '--import', 'tsx', fakePoint, ...options];
const cli = resolve('src/cli.ts');

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.on('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

let redis: ChildProcess;
let url: string;

beforeAll(async () => {
  const port = await freePort();
  redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  url = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    if (spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout.trim() === 'PONG') return;
    await sleep(100);
  }
  throw new Error('redis-server did not start');
});

afterAll(async () => {
  redis.kill('SIGTERM');
  await new Promise((done) => redis.once('exit', done));
});

function workspace(name: string, points: string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'tinyforge-queue-'));
  cpSync(join(fixtures, 'configs'), join(dir, 'configs'), { recursive: true });
  const sweepFile = join(dir, 'sweep.json');
  writeFileSync(sweepFile, JSON.stringify({
    name, configs: points.map((p) => `configs/${p}.json`), base: 'configs/tiny-cnn.json',
    grid: { 'model.widthMultiplier': [0.5, 1] }, fixed: { training: { seed: 3 } },
  }));
  return { dir, sweepFile, calls: join(dir, 'calls.log') };
}

function startWorker(runCommand: string[], ...extra: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', cli, 'worker', '--queue', url, '--lock-ms', '4000',
    '--run-command', JSON.stringify(runCommand), ...extra], { stdio: 'ignore' });
}

async function stopWorker(worker: ChildProcess): Promise<void> {
  if (worker.exitCode !== null || worker.signalCode !== null) return;
  const exited = new Promise((done) => worker.once('exit', done));
  worker.kill('SIGTERM');
  await exited;
}

const started = (calls: string) => (existsSync(calls) ? readFileSync(calls, 'utf8').trim().split('\n').filter(Boolean) : []);
const alive = (pid: number) => spawnSync('kill', ['-0', String(pid)]).status === 0;
const leftovers = (marker: string) =>
  spawnSync('pgrep', ['-f', marker], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean);

describe('sweeps on a Redis queue', () => {
  it('give the same results files as the local runner, each point run once', async () => {
    const local = workspace('same', ['keras', 'lenet5']);
    await runSweep(local.sweepFile, { resultsRoot: join(local.dir, 'results'), command: fake('--calls', local.calls) });

    const queued = workspace('same', ['keras', 'lenet5']);
    const workers = [0, 1].map(() => startWorker(fake('--sleep', '300', '--calls', queued.calls)));
    try {
      const outcome = await runSweep(queued.sweepFile, { resultsRoot: join(queued.dir, 'results'), queue: url });
      expect(outcome.failures).toEqual([]);
      expect(started(queued.calls).map((l) => l.split(' ')[0]).sort()).toEqual(started(local.calls).map((l) => l.split(' ')[0]).sort());
      for (const file of ['results.csv', 'ranking.csv', 'summary.md', 'failures.json']) {
        expect(readFileSync(join(queued.dir, 'results', 'same', file), 'utf8'), file).toBe(
          readFileSync(join(local.dir, 'results', 'same', file), 'utf8'),
        );
      }
      // Submitting the finished sweep again runs nothing (the points are finished on disk and on the queue).
      await runSweep(queued.sweepFile, { resultsRoot: join(queued.dir, 'results'), queue: url });
      expect(started(queued.calls)).toHaveLength(4);
    } finally {
      await Promise.all(workers.map(stopWorker));
    }
    expect(leftovers(queued.calls)).toEqual([]);
  });

  it('hand a point of a worker killed with kill -9 to another worker, and record it once', async () => {
    const ws = workspace('killed', ['keras']);
    const first = startWorker(fake('--sleep', '4000', '--calls', ws.calls), '--concurrency', '3');
    const sweep = runSweep(ws.sweepFile, { resultsRoot: join(ws.dir, 'results'), queue: url });
    let second: ChildProcess | undefined;
    try {
      while (started(ws.calls).length < 3) await sleep(100);
      const orphans = started(ws.calls).map((l) => Number(l.split(' ')[1]));
      first.kill('SIGKILL');
      // The points it was running die with it (their stdin pipe closed).
      for (let i = 0; i < 100 && orphans.some(alive); i++) await sleep(100);
      expect(orphans.filter(alive)).toEqual([]);
      second = startWorker(fake('--sleep', '200', '--calls', ws.calls), '--concurrency', '3');
      const outcome = await sweep;
      expect(outcome.failures).toEqual([]);
      expect(outcome.points.map((p) => p.status)).toEqual(['done', 'done', 'done']);
      const runs = started(ws.calls).map((l) => l.split(' ')[0]);
      expect(runs).toHaveLength(6); // three killed, three rerun
      const csv = readFileSync(join(ws.dir, 'results', 'killed', 'results.csv'), 'utf8').trim().split('\n');
      expect(csv).toHaveLength(1 + 3);
    } finally {
      first.kill('SIGKILL');
      if (second) await stopWorker(second);
    }
    expect(leftovers(ws.calls)).toEqual([]);
  });

  it('record a failing point as failed, not as a result, and retry it on the rerun', async () => {
    const ws = workspace('failing', ['keras']);
    const worker = startWorker(fake('--crash', 'keras', '--calls', ws.calls));
    try {
      const outcome = await runSweep(ws.sweepFile, { resultsRoot: join(ws.dir, 'results'), queue: url });
      expect(outcome.failures.map((f) => f.point)).toEqual(['keras']);
      expect(outcome.failures[0].reason).toMatch(/exited with code 3/);
      expect(outcome.failures[0].logTail).toMatch(/simulated failure/);
      const csv = readFileSync(join(ws.dir, 'results', 'failing', 'results.csv'), 'utf8');
      expect(csv).not.toMatch(/^keras,/m);
      const again = await runSweep(ws.sweepFile, { resultsRoot: join(ws.dir, 'results'), queue: url });
      expect(again.failures.map((f) => f.point)).toEqual(['keras']);
      expect(started(ws.calls).filter((l) => l.startsWith('keras '))).toHaveLength(2);
    } finally {
      await stopWorker(worker);
    }
  });

  it('refuse a queue that is not a Redis URL, or not reachable, before running anything', async () => {
    const ws = workspace('bad', ['keras']);
    await expect(runSweep(ws.sweepFile, { resultsRoot: join(ws.dir, 'results'), queue: 'http://x' })).rejects.toThrow(
      /expected a redis:\/\/ URL/,
    );
    const port = await freePort();
    const err = await runSweep(ws.sweepFile, { resultsRoot: join(ws.dir, 'results'), queue: `redis://127.0.0.1:${port}` }).catch((e) => e);
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toMatch(/cannot reach the Redis server/);
    expect(err.exitCode).toBe(3);
  });
});
