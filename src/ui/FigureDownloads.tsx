import { useState } from 'react';
import { download } from './download';
import { figureSvg, svgToPng, type FigureSpec } from './figure';

/**
 * "SVG" and "PNG" for one figure. `spec` is called at the click, so the figure is what the chart shows then;
 * null means there is nothing drawn yet.
 */
export function FigureDownloads({ name, spec, label }: { name: string; spec: () => FigureSpec | null; label: string }) {
  const [problem, setProblem] = useState<string | null>(null);
  const save = async (kind: 'svg' | 'png') => {
    setProblem(null);
    try {
      const s = spec();
      if (!s) throw new Error('nothing is drawn yet');
      const fig = figureSvg(s);
      if (kind === 'svg') download(`${name}.svg`, fig.svg, 'image/svg+xml');
      else download(`${name}.png`, await svgToPng(fig.svg, fig.width, fig.height), 'image/png');
    } catch (e) {
      setProblem(`The figure could not be saved: ${(e as Error).message}`);
    }
  };
  return (
    <span className="figure-downloads" role="group" aria-label={`Download ${label}`}>
      <span className="muted">Figure:</span>
      <button type="button" onClick={() => void save('svg')} aria-label={`Download ${label} as SVG`}>
        SVG
      </button>
      <button
        type="button"
        onClick={() => void save('png')}
        aria-label={`Download ${label} as PNG`}
        title="PNG at 300 dpi for the size shown"
      >
        PNG
      </button>
      {problem && (
        <span className="error" role="alert">
          {problem}
        </span>
      )}
    </span>
  );
}
