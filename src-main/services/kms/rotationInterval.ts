import { KmsError } from '../../../src-shared/errors';

/** RotationInterval as the reference takes it: "365d", "604800s" or a number of seconds; 7 to 730 days. */
export const MIN_ROTATION_SECONDS = 7 * 86400;
export const MAX_ROTATION_SECONDS = 730 * 86400;

export function parseRotationInterval(text: string): number {
  const m = /^(\d{1,12})([ds]?)$/.exec(text.trim());
  if (!m) throw new KmsError('InvalidParameter.RotationInterval', `RotationInterval "${text}" must look like "365d" or "604800s".`);
  const seconds = Number(m[1]) * (m[2] === 'd' ? 86400 : 1);
  if (seconds < MIN_ROTATION_SECONDS || seconds > MAX_ROTATION_SECONDS) {
    throw new KmsError('InvalidParameter.RotationInterval', 'RotationInterval must be between 7 and 730 days.');
  }
  return seconds;
}
