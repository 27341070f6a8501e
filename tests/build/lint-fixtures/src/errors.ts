export class FixtureError extends Error {}
