// Starts the real `pensieve serve` on a free port and stops it again.
import { spawn } from 'node:child_process';
import { once } from 'node:events';

export const BIN = process.env.PENSIEVE_BIN;
export const MODEL = process.env.PENSIEVE_TEST_MODEL;
export const READY = Boolean(BIN && MODEL);

// model: another GGUF than the default test model; waitReady: false returns as soon as it listens.
export async function startServer(extraArgs = [], env = {}, { model = MODEL, waitReady = true } = {}) {
  const proc = spawn(BIN, ['serve', '-m', model, '--port', '0', ...extraArgs], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  proc.stdout.on('data', (d) => { stdout += d.toString(); });
  // Every log line goes to stderr, the "listening on" line included; stdout stays empty.
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${stderr}`)), 30000);
    proc.stderr.on('data', (d) => {
      stderr += d.toString();
      const m = stderr.match(/listening on (http:\/\/[0-9.]+:\d+)/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited ${code}: ${stderr}`)); });
  });
  // Wait for the model to load: /health turns 200.
  for (let i = 0; waitReady && i < 300; i++) {
    const r = await fetch(`${url}/health`).catch(() => null);
    if (r && r.status === 200) break;
    await sleep(100);
  }
  return {
    url,
    proc,
    log: () => stderr,
    stdout: () => stdout,
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode !== null) return proc.exitCode;
      proc.kill(signal);
      const [code] = await once(proc, 'exit');
      return code;
    },
  };
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Reads an SSE response body, calling onEvent({id, event, data}) per event; onEvent may return
// false to stop reading: the connection is then closed, unless keepOpen.
export async function readSse(response, onEvent, { keepOpen = false } = {}) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += decoder.decode(value, { stream: true });
    let at;
    while ((at = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, at);
      buf = buf.slice(at + 2);
      const ev = { id: null, event: null, data: '' };
      for (const line of block.split('\n')) {
        if (line.startsWith('id: ')) ev.id = line.slice(4);
        else if (line.startsWith('event: ')) ev.event = line.slice(7);
        else if (line.startsWith('data: ')) ev.data += line.slice(6);
      }
      if (ev.event === null && ev.data === '' && ev.id === null) continue;  // comment
      if (onEvent(ev) === false) {
        if (keepOpen) reader.releaseLock();
        else await reader.cancel().catch(() => {});
        return;
      }
    }
  }
}
