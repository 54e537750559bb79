/**
 * The engine worker: owns tfjs and the accelerator. For now it sets up the backend the experiment asks for
 * and reports what actually runs; the training loop joins it in the engine issue.
 */
import { selectBackend } from './backends';
import type { PageToWorker, WorkerPort } from './protocol';

const port = self as unknown as WorkerPort;

async function handle(msg: PageToWorker): Promise<void> {
  switch (msg.type) {
    case 'init-backend': {
      const result = await selectBackend(msg.backend);
      port.postMessage(
        Array.isArray(result)
          ? { type: 'backend-failed', requested: msg.backend, attempts: result }
          : { type: 'backend-ready', report: result },
      );
      break;
    }
  }
}

// Messages are handled one at a time: two backend switches must never interleave inside tfjs.
let queue = Promise.resolve();
port.addEventListener('message', (event: MessageEvent<PageToWorker>) => {
  queue = queue.then(() => handle(event.data));
});

port.addEventListener('unhandledrejection', (event) => {
  const reason = (event as PromiseRejectionEvent).reason;
  port.postMessage({ type: 'worker-error', message: reason instanceof Error ? reason.message : String(reason) });
});
