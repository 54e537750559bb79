import { usePlayground, type BackendState } from '../store';

export function backendText(b: BackendState): string {
  if (b.status === 'starting') return `${b.requested} · starting…`;
  if (b.status === 'failed') return b.message ? `engine failed: ${b.message}` : 'no backend could start';
  const { active, adapter, threads } = b.report;
  const detail = adapter ?? (threads ? `${threads.count} thread${threads.count === 1 ? '' : 's'}` : null);
  return detail ? `${active} · ${detail}` : active;
}

/**
 * Which tfjs backend the worker really runs, on which adapter or how many threads, why auto chose it, and why it is
 * not the one asked for.
 */
export function BackendBadge() {
  const backend = usePlayground((s) => s.backend);
  const fellBack = backend.status === 'ready' && backend.report.attempts.length > 0;
  const attempts =
    backend.status === 'starting' ? [] : backend.status === 'ready' ? backend.report.attempts : backend.attempts;
  const notes =
    backend.status === 'ready' ? [backend.report.reason, backend.report.threads?.note].filter((n) => n != null) : [];
  return (
    <div className={`backend backend-${backend.status}${fellBack ? ' backend-fallback' : ''}`}>
      <span className="backend-label">Backend</span>{' '}
      <output data-testid="backend" aria-live="polite">
        {backendText(backend)}
      </output>
      {notes.map((n) => (
        <p key={n} className="backend-why" data-testid="backend-why">
          {n}
        </p>
      ))}
      {attempts.length > 0 && (
        <ul className="backend-attempts" data-testid="backend-fallback">
          {attempts.map((a) => (
            <li key={a.backend}>
              {a.backend} unavailable: {a.error}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
