import type * as tf from '@tensorflow/tfjs-core';
import type { GraphOp } from '../model/graph';
import type { backward } from '../gradients/backward';

export type MethodInput = { op: GraphOp; map: tf.Tensor; pass: typeof backward };
