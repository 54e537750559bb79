import { usePlayground, type BackendState } from '../store';

export function backendText(b: BackendState): string {
  if (b.status === 'starting') return `${b.requested} · starting…`;
  if (b.status === 'failed') return b.message ? `engine failed: ${b.message}` : 'no backend could start';
  const { active, adapter } = b.report;
  return adapter ? `${active} · ${adapter}` : active;
}

/** Which tfjs backend the worker really runs, on which adapter, and why it is not the one asked for. */
export function BackendBadge() {
  const backend = usePlayground((s) => s.backend);
  const fellBack = backend.status === 'ready' && backend.report.attempts.length > 0;
  const attempts =
    backend.status === 'starting' ? [] : backend.status === 'ready' ? backend.report.attempts : backend.attempts;
  return (
    <div className={`backend backend-${backend.status}${fellBack ? ' backend-fallback' : ''}`}>
      <span className="backend-label">Backend</span>{' '}
      <output data-testid="backend" aria-live="polite">
        {backendText(backend)}
      </output>
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
