// Public surface of the losses (which method uses which is train/method-loss.ts, the one dispatch). All functions build tensors: call them inside tf.tidy or an
// optimizer's minimize, which dispose the intermediates.
export { ceLoss, crossEntropy, crossEntropyRows } from './ce.js';
export { stopGradient } from './detach.js';
export { fromLogits, teacherDist, temperProbs } from './distributions.js';
export {
  EPS,
  jsDivergence,
  jsDivergenceRows,
  klDivergence,
  klDivergenceRows,
} from './divergence.js';
export { dkdLoss, dkdWarmFactor, type DkdOptions } from './dkd.js';
export { distLoss, pearson, type DistOptions } from './dist.js';
export { dmlLoss, type DmlOptions } from './dml.js';
export { COSINE_EPS, featureLoss, type FeatureLossKind } from './feature.js';
export { HINT_EPS, hintLoss } from './hint.js';
export { atLoss, attentionEnergy, attentionMap } from './at.js';
export { jsLoss } from './js.js';
export { peerFeatureLoss } from './peer-feature.js';
export { pairwiseDistances, rkdLoss, type RkdOptions } from './rkd.js';
export { kdLoss, type KdOptions } from './kd.js';
export { totalLoss } from './total.js';
export { symklLoss } from './symkl.js';
export { wslLoss, wslWeights, type WslOptions } from './wsl.js';
export {
  DIVERGENCE_NAMES,
  type DivergenceName,
  type LossParts,
  type TeacherTarget,
} from './types.js';
