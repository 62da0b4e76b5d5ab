// Child processes of the local stack: each in its own process group, so stopping one also stops
// what it spawned, and none outlives the run (Ctrl-C and crashes included).
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const running = new Set();
let interrupted = false;

/** True once Ctrl-C (or SIGTERM) arrived: what still runs is being torn down, not worth reporting. */
export const isInterrupted = () => interrupted;

/**
 * Starts `command` with its output appended to `logDir/name.log`; resolves once a line of output
 * matches `ready` (at once when there is no `ready`).
 */
export async function startProcess({ name, command, args = [], env, cwd, logDir, ready, timeoutMs = 120_000 }) {
  mkdirSync(logDir, { recursive: true });
  const logPath = join(logDir, `${name}.log`);
  const log = createWriteStream(logPath, { flags: 'a' });
  const child = spawn(command, args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const proc = { name, child, logPath, exited: false, output: '' };
  running.add(proc);
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      proc.exited = true;
      proc.exitInfo = signal ? `signal ${signal}` : `exit code ${code}`;
      running.delete(proc);
      resolve();
    });
  });
  proc.exitedPromise = exited;
  let match;
  const matched = new Promise((resolve) => {
    if (!ready) child.once('spawn', () => resolve([]));
    const onData = (chunk) => {
      log.write(chunk);
      if (match || !ready) return;
      // Only the start of the output is kept for matching: the ready line comes early.
      proc.output = (proc.output + chunk.toString()).slice(-20_000);
      const m = proc.output.match(ready);
      if (m) {
        match = m;
        resolve(m);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
  });
  child.on('error', (e) => log.write(`spawn error: ${e.message}\n`));
  const timer = sleep(timeoutMs, 'timeout', { ref: false });
  const first = await Promise.race([matched, exited.then(() => 'exited'), timer]);
  if (first === 'timeout' || first === 'exited') {
    await stopProcess(proc);
    const why = first === 'timeout' ? `not ready after ${timeoutMs / 1000} s` : `exited (${proc.exitInfo})`;
    throw new Error(`${name} ${why}; its log is ${logPath}:\n${proc.output.slice(-3000)}`);
  }
  proc.match = first;
  return proc;
}

/** SIGTERM to the process, its group and its descendants; SIGKILL to what is left after `graceMs`. */
export async function stopProcess(proc, graceMs = 5_000) {
  if (proc.exited) return;
  // A child may have put its own children in groups of their own: those are found through /proc.
  const family = descendants(proc.child.pid);
  signalGroup(proc, 'SIGTERM');
  signalAll(family, 'SIGTERM');
  const done = await Promise.race([proc.exitedPromise.then(() => true), sleep(graceMs, false, { ref: false })]);
  if (!done) {
    signalGroup(proc, 'SIGKILL');
    await proc.exitedPromise;
  }
  // The leader may exit before its children: make sure the rest goes too.
  signalGroup(proc, 'SIGKILL');
  signalAll(family, 'SIGKILL');
}

function signalGroup(proc, signal) {
  signalAll([-proc.child.pid], signal);
}

function signalAll(pids, signal) {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone.
    }
  }
}

/** Every live descendant of `pid`, from /proc (Linux); none elsewhere. */
function descendants(pid) {
  let parents;
  try {
    parents = readdirSync('/proc')
      .filter((name) => /^\d+$/.test(name))
      .map((name) => {
        try {
          // The field after the parenthesised command name is the state, then the parent's pid.
          const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
          return [Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])];
        } catch {
          return [Number(name), 0];
        }
      });
  } catch {
    return [];
  }
  const found = [];
  const queue = [pid];
  while (queue.length) {
    const parent = queue.shift();
    for (const [child, ppid] of parents) {
      if (ppid === parent) {
        found.push(child);
        queue.push(child);
      }
    }
  }
  return found;
}

/** A port on 127.0.0.1 that is free now (for servers that cannot report the port they bound). */
export async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// A run that is interrupted or crashes must not leave servers behind.
function killAllNow() {
  for (const proc of running) {
    signalAll(descendants(proc.child.pid), 'SIGKILL');
    signalGroup(proc, 'SIGKILL');
  }
}
process.on('exit', killAllNow);
for (const [signal, number] of [['SIGINT', 2], ['SIGTERM', 15], ['SIGHUP', 1]]) {
  process.once(signal, async () => {
    interrupted = true;
    process.stderr.write(`\n${signal}: stopping the local stack ...\n`);
    await Promise.all([...running].map((proc) => stopProcess(proc, 2_000)));
    process.exit(128 + number);
  });
}
