export class Explainer {}
