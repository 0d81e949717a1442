/**
 * The auto-lock's rules, shared by the main process (which owns the timer and enforces them) and
 * the renderer (which offers the choices): a whole number of minutes from 1 to 60, 5 by default,
 * and why the app locked itself.
 */

export const AUTO_LOCK_MIN_MINUTES = 1;
export const AUTO_LOCK_MAX_MINUTES = 60;
export const DEFAULT_AUTO_LOCK_MINUTES = 5;
/** What the Keystore screen offers; every one lies within the limits above. */
export const AUTO_LOCK_CHOICES = [1, 2, 5, 10, 15, 30, 60] as const;

/**
 * Why the main process locked the keystore and logged out of the token by itself:
 * - Inactivity: no keyboard or mouse activity in the window for the configured minutes;
 * - RendererGone: the window's renderer crashed or was killed;
 * - RendererUnresponsive: the window's renderer hung (Electron's 'unresponsive');
 * - SystemSuspend: the machine is going to sleep;
 * - ScreenLocked: the operating system locked the screen.
 */
export const AUTO_LOCK_REASONS = ['Inactivity', 'RendererGone', 'RendererUnresponsive', 'SystemSuspend', 'ScreenLocked'] as const;
export type AutoLockReason = (typeof AUTO_LOCK_REASONS)[number];

/** Whether `minutes` is a delay the main process accepts. */
export function isAutoLockMinutes(minutes: unknown): minutes is number {
  return Number.isInteger(minutes) && (minutes as number) >= AUTO_LOCK_MIN_MINUTES && (minutes as number) <= AUTO_LOCK_MAX_MINUTES;
}
