import type * as tf from '@tensorflow/tfjs-core';
import type { Explainer } from '../src/explainer';
import { FixtureError } from '../src/errors';

export type Page = { explainer: Explainer; shape: tf.Tensor['shape']; error: FixtureError };
