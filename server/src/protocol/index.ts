/** Every custom LSP request and notification of TTS Distill, shared by server/ and client/. */
export * from './base';
export * from './pronunciation';
export * from './teacher';
export * from './student';
export * from './audio';
export * from './slurm';
