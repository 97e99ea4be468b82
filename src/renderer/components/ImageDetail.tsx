// The detail panel for one image: the picture, where it comes from, every model's probabilities, and
// on request where the teacher and the student look (Grad-CAM).
import { useApi, useCall } from '../api-context.js';
import { baseName, pct } from '../lib/format.js';
import { ErrorNote } from './ErrorNote.js';
import { ProbBars } from './ProbBars.js';
import { GradCamPanel } from './GradCamPanel.js';

export function ImageDetail({ imageId, onOpen, run }: { imageId: number; onOpen?: () => void; /** The run whose student Grad-CAM explains (else the newest finished one). */ run?: number }) {
  const client = useApi();
  const { data, error } = useCall('images.detail', { id: imageId });
  const img = data?.image;
  return (
    <div className="detail" data-testid="image-detail" data-image-id={imageId}>
      <ErrorNote error={error} />
      {img && (
        <>
          <button className="detail-image" onClick={onOpen} title="Open large (Enter)">
            <img src={client.imageUrl(img.id)} alt={baseName(img.path)} />
          </button>
          <div className="detail-name" title={img.path}>
            {baseName(img.path)}
          </div>
          <dl className="kv">
            <dt>role</dt>
            <dd>{img.role}</dd>
            <dt>label</dt>
            <dd>{img.label ?? <span className="muted">none</span>}</dd>
            <dt>teacher</dt>
            <dd>{img.teacherLabel ? `${img.teacherLabel} (${pct(img.teacherConfidence)})` : <span className="muted">—</span>}</dd>
            {img.predictedLabel !== undefined && img.predictedLabel !== null && (
              <>
                <dt>student</dt>
                <dd>
                  {img.predictedLabel} ({pct(img.predictedConfidence ?? null)})
                </dd>
              </>
            )}
            <dt>mined</dt>
            <dd>{img.mined ? 'yes' : 'no'}</dd>
          </dl>
          <div className="detail-path small muted">{img.path}</div>
          <ProbBars sets={data.probabilities} truth={img.label} />
          <GradCamPanel imageId={img.id} run={run} />
        </>
      )}
    </div>
  );
}
