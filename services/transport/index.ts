export * from './session';
export * from './event-sender';
export * from './tokens';
export * from './capabilities';
export * from './one-shot';
