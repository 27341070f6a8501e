/** The shipped model's identity and the settings that rebuild it (one place, read by train, evaluate and the tests). */
import * as path from 'path';
import { FASHION_MNIST_LABELS } from './idx';
import { DEFAULT_ARCH } from './model';

export const MODEL_ID = 'fashion-scenes';
export const MODELS_DIR = path.resolve(__dirname, '..');
export const MODEL_DIR = path.join(MODELS_DIR, MODEL_ID);
export const SAMPLES_DIR = path.join(MODEL_DIR, 'samples');

export const SCENE_SIZE = DEFAULT_ARCH.inputSize;
export const LABELS: string[] = [...FASHION_MNIST_LABELS];
export const INPUT_RANGE = '0..1' as const;

/** Seeds: training (weights, scene order) and the fixed test scenes (independent of training). */
export const TRAIN_SEED = 1;
export const TEST_SEED = 2024;

export const TRAINING = {
  /** About an hour of training on two cores. */
  steps: 16000,
  /** Split over the replicas: batch norm computes its statistics over each replica's 16 scenes. */
  batch: 32,
  /**
   * Data-parallel replicas (worker threads, one wasm thread each), fixed rather than taken
   * from the machine so that the model is the same everywhere: the batch-norm statistics
   * are per replica shard, so the count is part of what the model is a function of.
   */
  replicas: 2,
  /** Linear warm-up to the peak, then cosine decay to the final rate (schedule.ts). */
  peakLearningRate: 3e-3,
  warmupSteps: 100,
  finalLearningRate: 1e-5,
  labelSmoothing: 0.05,
  /**
   * Decoupled weight decay (AdamW) on the convolution and dense kernels, not on batch-norm
   * parameters or biases. Batch norm makes a kernel's scale irrelevant, so without decay those
   * kernels only grow and their effective step shrinks. 0.1 puts the shrink a step at the peak
   * rate (0.1 * 3e-3 = 3e-4) near the AdamW paper's normalised decay 0.05 for this batch and
   * scene count (0.05 * sqrt(32 / 512000) = 4e-4).
   */
  weightDecay: 0.1,
  /** Scenes get harder over this fraction of the run (see SceneOptions.difficulty), then stay at full difficulty. */
  curriculumFraction: 0.1,
  /** Validation (held-out train images) every this many steps. */
  validateEvery: 1000,
  validationScenes: 500,
};

export const TRAIN_COMMAND = 'npm run train';
