import { opCount, type GraphOp } from '../model/graph';

export const backward = (ops: GraphOp[]): number => opCount(ops);
