import { b } from './bad-cycle-b';

export const a = (): number => b() + 1;
