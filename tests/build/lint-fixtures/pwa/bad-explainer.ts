import { Explainer } from '../src/explainer';

export const make = (): Explainer => new Explainer();
