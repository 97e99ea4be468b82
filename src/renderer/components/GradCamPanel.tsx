// Grad-CAM in the image detail: the teacher's and the student's heat maps side by side over the image
// (its center square, as the models see it), each for its own top class. A job runs `distill explain`.
import { useEffect, useRef } from 'react';
import { ExplainResult, type CamMap } from '../../shared/grad-cam.js';
import { useApi } from '../api-context.js';
import { pct } from '../lib/format.js';
import { useJobResult } from '../lib/use-job-result.js';
import { JobOutcome } from './JobOutcome.js';

/** Blue → cyan → yellow → red, with opacity growing with the value (a low value leaves the image visible). */
function camColor(v: number): [number, number, number, number] {
  const t = Math.max(0, Math.min(1, v));
  const r = Math.round(255 * Math.min(1, Math.max(0, 2 * t - 0.5) * 1.5));
  const g = Math.round(255 * Math.max(0, 1 - Math.abs(2 * t - 1.1) * 1.2));
  const b = Math.round(255 * Math.max(0, 1 - 2.2 * t));
  return [r, g, b, Math.round(255 * (0.15 + 0.5 * t))];
}

function CamOverlay({ src, cam, title, testId }: { src: string; cam: number[][]; title: string; testId: string }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const c = canvas.current;
    if (!c) return;
    const h = cam.length;
    const w = cam[0]?.length ?? 0;
    c.width = w;
    c.height = h;
    const ctx = c.getContext('2d');
    if (!ctx || !w) return;
    const img = ctx.createImageData(w, h);
    cam.forEach((row, y) =>
      row.forEach((v, x) => {
        img.data.set(camColor(v), (y * w + x) * 4);
      }),
    );
    ctx.putImageData(img, 0, 0);
  }, [cam]);
  return (
    <figure className="cam" data-testid={testId} data-cells={`${cam.length}x${cam[0]?.length ?? 0}`}>
      <div className="cam-box">
        <img src={src} alt="" />
        <canvas ref={canvas} />
      </div>
      <figcaption className="small">{title}</figcaption>
    </figure>
  );
}

const caption = (who: string, m: CamMap) => `${who}: ${m.label ?? '?'} (${pct(m.probs[m.classIndex])})`;

export function GradCamPanel({ imageId, run }: { imageId: number; run?: number }) {
  const client = useApi();
  const job = useJobResult(ExplainResult);
  const { result, reset } = job;
  useEffect(reset, [imageId, run, reset]);
  const src = client.imageUrl(imageId);
  return (
    <div className="gradcam" data-testid="gradcam">
      {!result && (
        <button onClick={() => void job.start(() => client.call('images.gradCam', { id: imageId, ...(run !== undefined && { run }) }))} data-testid="gradcam-start">
          Where do they look? (Grad-CAM)
        </button>
      )}
      <JobOutcome jobId={job.jobId} error={job.error} testId="gradcam-progress" onFinish={job.onFinish} />
      {result && (
        <>
          <div className="cam-pair">
            {result.teacher && 'cam' in result.teacher ? (
              <CamOverlay src={src} cam={result.teacher.cam} title={caption(`teacher ${result.teacher.name}`, result.teacher)} testId="gradcam-teacher" />
            ) : null}
            <CamOverlay src={src} cam={result.student.cam} title={caption(`student (run #${result.run})`, result.student)} testId="gradcam-student" />
          </div>
          {result.teacher && 'unavailable' in result.teacher && (
            <div className="muted small" data-testid="gradcam-teacher-unavailable">
              {result.teacher.unavailable}
            </div>
          )}
          {!result.teacher && <div className="muted small">This run has no teacher: the student's map only.</div>}
        </>
      )}
    </div>
  );
}
