export * from './interfaces';
export * from './decode';
export * from './build';
export * from '../envelope/report';
export * from './outbound';
export * from './inbound';
