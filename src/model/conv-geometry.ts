/** How a conv layer slides over its input: strides, dilations and padding, read from the layer once here. */
import type { GraphOp } from './graph';

export type ExplicitPadding = [[number, number], [number, number], [number, number], [number, number]];
export type ConvPadding = 'same' | 'valid' | ExplicitPadding;

export interface ConvGeometry {
  strides: [number, number];
  dilations: [number, number];
  pad: ConvPadding;
}

/** The geometry of a channels-last conv with 'same' or 'valid' padding; null for anything else (no hand-written rule then). */
export function convGeometry(op: GraphOp): ConvGeometry | null {
  const l = op.layer as unknown as { strides: number[]; dilationRate: number[] | number; padding: string; dataFormat: string };
  if (l.dataFormat !== 'channelsLast' || (l.padding !== 'same' && l.padding !== 'valid')) return null;
  const d = typeof l.dilationRate === 'number' ? [l.dilationRate, l.dilationRate] : l.dilationRate;
  return { strides: [l.strides[0], l.strides[1]], dilations: [d[0], d[1]], pad: l.padding };
}
