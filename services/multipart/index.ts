export * from './parser';
export * from './attachments';
export * from './reader';
export * from './writer';
