import { backward } from '../gradients/backward';

export const run = backward;
