/** The training schedule: a pure function of the step, shared by the coordinator and every replica. */
import { TRAINING } from './config';

/** Linear warm-up, then cosine decay from the peak to the final rate. */
export function learningRate(step: number, steps: number): number {
  const { peakLearningRate: peak, warmupSteps: warm, finalLearningRate: low } = TRAINING;
  if (step < warm) return (peak * (step + 1)) / warm;
  const t = (step - warm) / Math.max(1, steps - warm);
  return low + 0.5 * (peak - low) * (1 + Math.cos(Math.PI * t));
}

/** Curriculum: easy scenes first, the full distribution from `curriculumFraction` of the run on. */
export function difficulty(step: number, steps: number): number {
  return Math.min(1, step / Math.max(1, TRAINING.curriculumFraction * steps));
}
