import { a } from './bad-cycle-a';

export const b = (): number => (a ? 1 : 0);
