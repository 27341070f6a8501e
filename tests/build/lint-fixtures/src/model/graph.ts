export interface GraphOp { index: number }
export const opCount = (ops: GraphOp[]): number => ops.length;
