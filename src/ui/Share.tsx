import { useState } from 'react';
import { toQuery } from '../experiment/codec';
import { usePlayground } from '../store';
import { linkFor } from '../store/sync';

/**
 * "Copy link": the address bar already holds the experiment; this copies it, optionally with autostart=1 so the
 * recipient's page starts the run as soon as it is ready. Where the clipboard is refused (an insecure page, a
 * denied permission) the link is shown selected instead, so it can still be copied by hand.
 */
export function Share() {
  const config = usePlayground((s) => s.config);
  const [autostart, setAutostart] = useState(false);
  const [state, setState] = useState<{ status: 'idle' } | { status: 'copied' | 'manual'; link: string }>({
    status: 'idle',
  });
  const copy = async () => {
    const link = `${location.origin}${linkFor(toQuery(config, { autostart }))}`;
    try {
      await navigator.clipboard.writeText(link);
      setState({ status: 'copied', link });
    } catch {
      setState({ status: 'manual', link });
    }
  };
  return (
    <div className="share" data-testid="share">
      <button type="button" onClick={() => void copy()}>
        Copy link
      </button>
      <label>
        <input type="checkbox" checked={autostart} onChange={(e) => setAutostart(e.target.checked)} /> starts the run
        when opened
      </label>
      <span role="status" className="share-status">
        {state.status === 'copied' && 'Link copied.'}
      </span>
      {state.status === 'manual' && (
        <label className="share-manual">
          The clipboard is not available here; copy the link by hand:
          <input readOnly value={state.link} onFocus={(e) => e.target.select()} autoFocus />
        </label>
      )}
    </div>
  );
}
