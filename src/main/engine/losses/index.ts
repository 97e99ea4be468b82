// Public surface of the losses. All functions build tensors: call them inside tf.tidy or an
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
export { dmlLoss, type DmlOptions } from './dml.js';
export { COSINE_EPS, featureLoss, type FeatureLossKind } from './feature.js';
export { jsLoss } from './js.js';
export { kdLoss, type KdOptions } from './kd.js';
export { getLoss, isLossName, LOSS_NAMES, LOSSES, totalLoss, type LossName } from './registry.js';
export { symklLoss } from './symkl.js';
export {
  DIVERGENCE_NAMES,
  type DivergenceName,
  type LossBatch,
  type LossFn,
  type LossOptions,
  type LossParts,
  type TeacherTarget,
} from './types.js';
