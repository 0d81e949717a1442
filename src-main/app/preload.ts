/**
 * The preload exposes verbs, never transports. The desktop issue adds `window.keyroom`, derived
 * from the contract; until then it exposes only the version, so the renderer can show it.
 */
import { contextBridge } from 'electron';

contextBridge.exposeInMainWorld('keyroomShell', { version: '0.1.0' });
