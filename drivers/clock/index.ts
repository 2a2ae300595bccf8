export * from './clock';
export * from './simulated-clock';
export * from './system-clock';
