import { worker } from '../../worker/entry';

export const w = worker;
