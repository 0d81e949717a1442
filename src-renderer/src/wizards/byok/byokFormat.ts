/**
 * How the BYOK wizard says things: time left on an import token, which refusals belong to which
 * field, reading a chosen file as text in the page.
 */
import { OperationError } from '../../client/keyroom';
import type { ErrorCode } from '../../../../src-shared/errors';

/** `2 d 23 h`, `23 h 59 min`, `42 min`, `under a minute`. */
export function timeLeft(seconds: number): string {
  if (seconds <= 0) return 'expired';
  if (seconds < 60) return 'under a minute';
  const minutes = Math.floor(seconds / 60);
  const hours = Math.floor(minutes / 60);
  const days = Math.floor(hours / 24);
  if (days > 0) return `${days} d ${hours % 24} h`;
  if (hours > 0) return `${hours} h ${minutes % 60} min`;
  return `${minutes} min`;
}

/** The step-2 field a refusal is about, so it is shown there; `other` below the Check button. */
export type ParameterField = 'publicKey' | 'tokenExpireTime' | 'other';

const FIELD_OF: Partial<Record<ErrorCode, ParameterField>> = {
  'InvalidParameter.PublicKey': 'publicKey',
  'InvalidParameter.WrappingKeySpec': 'publicKey',
  'InvalidParameter.TokenExpireTime': 'tokenExpireTime',
  'Import.TokenExpired': 'tokenExpireTime',
};

export function fieldOf(error: unknown): ParameterField | null {
  if (error == null) return null;
  return (error instanceof OperationError && FIELD_OF[error.code]) || 'other';
}

/** What a file holds, as text, read in the page (the cloud's public key, its token). */
export function readTextFile(file: File, maxBytes = 200_000): Promise<string> {
  if (file.size > maxBytes) return Promise.reject(new Error(`${file.name} is ${file.size} bytes; a public key or import token is far smaller. Choose the right file.`));
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(typeof reader.result === 'string' ? reader.result : '');
    reader.onerror = () => reject(new Error(`${file.name} could not be read.`));
    reader.readAsText(file);
  });
}
