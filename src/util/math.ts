/** The logistic function: a logit as a probability (one-logit rerankers, logistic combinations, calibration). */
export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}
