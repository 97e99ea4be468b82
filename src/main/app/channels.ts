// IPC channel names shared by Electron main and the preload (plain constants: safe to bundle in both).
export const CALL_CHANNEL = 'distill:call';
export const EVENT_CHANNEL = 'distill:event';
