import { memo, useMemo, useRef, useState } from 'react';
import { runLabel } from '../experiment/label';
import type { ErrorPoint, EvalPoint, Gallery, RunRecord } from '../experiment/record';
import { csvField } from '../persist/exchange';
import { usePlayground } from '../store';
import { ConfusionMatrix, MATRIX_LEGEND, TopConfusions } from './ConfusionMatrix';
import { download } from './download';
import { errorsAt, galleryOrder, GRID_IMAGES, matrixCounts, matrixError, perClassErrors } from './errorStats';
import { FigureDownloads } from './FigureDownloads';
import { fmt } from './format';
import { runColor } from './RunsChart';

const PLANE = 1024;

// Each gallery image becomes a PNG data URL once: the pixels of a run's gallery never change.
const urls = new WeakMap<Uint8Array, Map<number, string>>();
function imageUrl(pixels: Uint8Array, i: number): string {
  let byIndex = urls.get(pixels);
  if (!byIndex) urls.set(pixels, (byIndex = new Map()));
  let url = byIndex.get(i);
  if (url === undefined) {
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = 32;
    const ctx = canvas.getContext('2d');
    if (!ctx) return '';
    const img = ctx.createImageData(32, 32);
    const base = i * 3 * PLANE; // planar: 1024 R, 1024 G, 1024 B
    for (let p = 0; p < PLANE; p++) {
      img.data[4 * p] = pixels[base + p]!;
      img.data[4 * p + 1] = pixels[base + PLANE + p]!;
      img.data[4 * p + 2] = pixels[base + 2 * PLANE + p]!;
      img.data[4 * p + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
    url = canvas.toDataURL('image/png');
    byIndex.set(i, url);
  }
  return url;
}

function ImageGrid({ gallery, point }: { gallery: Gallery; point: ErrorPoint }) {
  const order = galleryOrder(gallery.labels, point, GRID_IMAGES);
  const wrong = gallery.labels.filter((l, i) => point.predicted[i] !== l).length;
  const name = (c: number) => gallery.classNames[c] ?? String(c);
  return (
    <figure className="error-grid-figure">
      <figcaption>
        Test images: {wrong} of the first {gallery.labels.length} misclassified; the mistakes first, most confident
        first
      </figcaption>
      <ul className="error-grid" data-testid="error-grid">
        {order.map((i) => {
          const truth = gallery.labels[i]!;
          const guess = point.predicted[i]!;
          const ok = truth === guess;
          const p = `${fmt(100 * (point.confidence[i] ?? 0))}%`;
          return (
            <li
              key={i}
              className={ok ? 'right' : 'wrong'}
              data-testid="error-tile"
              title={`test image ${i}: true ${name(truth)}, predicted ${name(guess)} with probability ${p}`}
            >
              <img src={imageUrl(gallery.pixels, i)} alt={`test image ${i}, a ${name(truth)}`} width={56} height={56} />
              <span className="tile-label">{name(truth)}</span>
              <span className="tile-guess">{ok ? '✓ right' : `→ ${name(guess)}`}</span>
              <span className="tile-prob">{p}</span>
            </li>
          );
        })}
      </ul>
    </figure>
  );
}

function ClassBars({ gallery, point }: { gallery: Gallery; point: ErrorPoint }) {
  const [all, setAll] = useState(false);
  const rows = perClassErrors(point, gallery);
  const many = rows.length > 20;
  const shown = many && !all ? [...rows].sort((a, b) => (b.error ?? -1) - (a.error ?? -1)).slice(0, 20) : rows;
  return (
    <figure className="class-bars-figure">
      <figcaption>
        Test error per class{many && !all ? ': the 20 worst' : ''}{' '}
        {many && (
          <button type="button" className="link" onClick={() => setAll(!all)}>
            {all ? 'show the 20 worst' : `show all ${rows.length}`}
          </button>
        )}
      </figcaption>
      <ul className="class-bars" data-testid="class-bars">
        {shown.map((r) => (
          <li key={r.cls} data-testid="class-bar" data-class={r.cls} data-images={r.images} data-wrong={r.wrong}>
            <span className="class-name">{r.name}</span>
            <span className="bar-track">
              <span className="bar" style={{ width: `${r.error ?? 0}%` }} />
            </span>
            <span className="num">
              {r.error === null ? '—' : `${fmt(r.error, 1)}%`}{' '}
              <small className="muted">
                {r.wrong} / {r.images}
              </small>
            </span>
          </li>
        ))}
      </ul>
    </figure>
  );
}

function matrixCsv(confusion: readonly number[], classNames: readonly string[]): string {
  const k = classNames.length;
  const lines = [['true \\ predicted', ...classNames].map(csvField).join(',')];
  for (let r = 0; r < k; r++) lines.push([classNames[r], ...confusion.slice(r * k, r * k + k)].map(csvField).join(','));
  return `${lines.join('\n')}\n`;
}

function MatrixPanel({ label, gallery, point }: { label: string; gallery: Gallery; point: ErrorPoint }) {
  const k = gallery.classNames.length;
  const [full, setFull] = useState(false);
  const svg = useRef<SVGSVGElement>(null);
  const fileName = `confusion-${label.replace(/[^\w.-]+/g, '_')}-iter${point.iter}`;
  const showMatrix = k <= 20 || full;
  return (
    <figure className="matrix-figure">
      <figcaption>
        Confusion matrix{k > 20 && !full ? ': the 20 most frequent confusions' : ''}{' '}
        <span className="figure-tools">
          {k > 20 && (
            <button type="button" className="link" onClick={() => setFull(!full)}>
              {full ? 'hide the matrix' : `show the full ${k}×${k} matrix`}
            </button>
          )}
          {showMatrix && (
            <FigureDownloads
              name={fileName}
              label={`the confusion matrix of ${label}`}
              spec={() =>
                svg.current && {
                  title: `Confusion matrix · ${label} · iteration ${point.iter.toLocaleString('en-US')}`,
                  panels: [{ svg: svg.current }],
                  legend: MATRIX_LEGEND,
                  note: `rows: true class, columns: predicted class · ${fmt(matrixCounts(point.confusion).total)} test images, test error ${fmt(matrixError(point.confusion), 2)}%`,
                }
              }
            />
          )}
          <button
            type="button"
            className="small"
            aria-label={`Confusion matrix of ${label}: its counts as a CSV file`}
            onClick={() => download(`${fileName}.csv`, matrixCsv(point.confusion, gallery.classNames), 'text/csv')}
          >
            CSV
          </button>
        </span>
      </figcaption>
      {k > 20 && <TopConfusions confusion={point.confusion} classNames={gallery.classNames} />}
      {showMatrix && (
        <div className="matrix-scroll">
          <ConfusionMatrix ref={svg} confusion={point.confusion} classNames={gallery.classNames} />
        </div>
      )}
    </figure>
  );
}

/** One run at one evaluation: the images, the classes, the matrix. Redrawn only when those change. */
const RunErrors = memo(function RunErrors({
  label,
  color,
  gallery,
  point,
  evaluation,
}: {
  label: string;
  color: string;
  gallery: Gallery | undefined;
  point: ErrorPoint;
  evaluation: EvalPoint | undefined;
}) {
  const { total, wrong } = matrixCounts(point.confusion);
  return (
    <div className="run-errors" data-testid="run-errors">
      <p className="run-errors-head" data-testid="errors-summary">
        <span className="swatch" style={{ background: color }} aria-hidden="true" />
        <strong>{label}</strong> · iteration {point.iter.toLocaleString('en-US')} · test error{' '}
        <strong data-testid="errors-test-error">
          {fmt(evaluation?.testError ?? matrixError(point.confusion), 2)}%
        </strong>{' '}
        <span className="muted">
          ({fmt(wrong)} of {fmt(total)} test images)
        </span>
      </p>
      {gallery ? (
        <>
          <ImageGrid gallery={gallery} point={point} />
          <div className="errors-charts">
            <ClassBars gallery={gallery} point={point} />
            <MatrixPanel label={label} gallery={gallery} point={point} />
          </div>
        </>
      ) : (
        <p className="muted">This run's test images were not recorded (it was imported without them).</p>
      )}
    </div>
  );
});

/**
 * What the network gets wrong, at any evaluation of a run, beside a second run if asked: the test images it
 * misclassifies, its test error per class and its confusion matrix. All of it comes from the evaluation passes
 * the run already made (stored with the run), so it is there for finished, reloaded and imported runs alike.
 */
export function ErrorsView() {
  // Redrawn when a run gains an evaluation, not at every training point.
  const signature = usePlayground((s) =>
    s.runs.map((r) => `${r.id}:${r.errors?.length ?? 0}:${r.gallery ? 1 : 0}:${r.color}:${r.status}`).join('|'),
  );
  const runs = useMemo(
    () => usePlayground.getState().runs.filter((r) => (r.errors?.length ?? 0) > 0),
    [signature], // eslint-disable-line react-hooks/exhaustive-deps
  );
  const [primaryId, setPrimaryId] = useState('');
  const [compareId, setCompareId] = useState('');
  const [at, setAt] = useState<'latest' | number>('latest');
  const primary = runs.find((r) => r.id === primaryId) ?? runs.at(-1);
  const compare = runs.find((r) => r.id === compareId && r.id !== primary?.id);
  const shown = [primary, compare].filter((r): r is RunRecord => r !== undefined);
  const iterations = [...new Set(shown.flatMap((r) => r.errors!.map((e) => e.iter)))].sort((a, b) => a - b);
  const index =
    at === 'latest'
      ? iterations.length - 1
      : Math.max(
          0,
          iterations.findLastIndex((i) => i <= at),
        );
  const option = (r: RunRecord) => (
    <option key={r.id} value={r.id}>
      {runLabel(r.config)} · {r.status} · started {new Date(r.startedAt).toLocaleTimeString('en-GB')}
    </option>
  );

  return (
    <section className="card errors" aria-labelledby="errors-title" data-testid="errors-view">
      <div className="card-head">
        <h2 id="errors-title">What the network gets wrong</h2>
        {runs.length > 0 && (
          <div className="lab-controls">
            <label>
              Run{' '}
              <select value={primary?.id ?? ''} onChange={(e) => setPrimaryId(e.target.value)}>
                {runs.map(option)}
              </select>
            </label>
            <label>
              Compare with{' '}
              <select value={compare?.id ?? ''} onChange={(e) => setCompareId(e.target.value)}>
                <option value="">—</option>
                {runs.filter((r) => r.id !== primary?.id).map(option)}
              </select>
            </label>
            <label className="eval-slider">
              Evaluation{' '}
              <input
                type="range"
                min={0}
                max={Math.max(0, iterations.length - 1)}
                value={index}
                disabled={iterations.length < 2}
                onChange={(e) => {
                  const i = Number(e.target.value);
                  setAt(i >= iterations.length - 1 ? 'latest' : iterations[i]!);
                }}
              />{' '}
              <output data-testid="errors-at">
                iteration {(iterations[index] ?? 0).toLocaleString('en-US')}
                {at === 'latest' ? ' (latest)' : ''}
              </output>
            </label>
          </div>
        )}
      </div>
      {runs.length === 0 ? (
        <p className="muted">
          At every evaluation of a run: the test images it gets wrong, its test error per class and its confusion
          matrix. Start a run; they appear at its first evaluation.
        </p>
      ) : (
        <div className={`errors-panels${shown.length > 1 ? ' compare' : ''}`}>
          {shown.map((r) => {
            const point = errorsAt(r.errors, at === 'latest' ? 'latest' : iterations[index]!);
            return point ? (
              <RunErrors
                key={r.id}
                label={runLabel(r.config)}
                color={runColor(r)}
                gallery={r.gallery}
                point={point}
                evaluation={r.evals.find((e) => e.iter === point.iter)}
              />
            ) : (
              <p key={r.id} className="muted">
                {runLabel(r.config)} has no evaluation at or before iteration {iterations[index]}.
              </p>
            );
          })}
        </div>
      )}
    </section>
  );
}
