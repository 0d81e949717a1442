/**
 * The four ceremony wizards and where they plug into the shell: one route each, listed in the
 * navigation in this order, each loaded when first opened.
 */
import type { Component } from 'vue';

export interface WizardEntry {
  id: 'byok' | 'csr' | 'sign' | 'rotate';
  title: string;
  /** What the wizard does, in one line for the navigation and its first screen. */
  summary: string;
  /** The component, loaded when first opened. */
  load: () => Promise<Component>;
}

const byok = () => import('./byok/ByokWizard.vue');
const csr = () => import('./csr/CsrWizard.vue');
const rotate = () => import('./rotate/RotateWizard.vue');
const sign = () => import('./sign/SignWizard.vue');

export const WIZARDS: readonly WizardEntry[] = [
  { id: 'byok', title: 'Wrap key for cloud import', summary: 'Generate key material and wrap it for import into a cloud KMS (BYOK).', load: byok },
  { id: 'csr', title: 'Certificate request', summary: 'Write a PKCS#10 certificate signing request for an asymmetric key.', load: csr },
  { id: 'sign', title: 'Sign release artifacts', summary: 'Hash release files and sign their digests offline.', load: sign },
  { id: 'rotate', title: 'Rotate an alias', summary: 'Point an alias at a new key or version, and re-encrypt what depends on it.', load: rotate },
];
