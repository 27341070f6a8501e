import { opCount } from '../model/graph';

export const n = opCount([]);
