/**
 * A backend whose module loads on its first use. The session names its backends when it is made,
 * but a command that runs one operation often needs none of them (ListKeys, DescribeKey): loading
 * the software backend's crypto (the curves, SM2, the ASN.1 encoders) up front cost the `keyroom`
 * command part of its start-up. Token backends take LazyTokenBackend, which forwards their
 * token-only methods too (a caller tells a token backend by them: orphanHsmKeys.ts).
 */
import type { KeyBackend } from './backend';

export class LazyBackend implements KeyBackend {
  private loading: Promise<KeyBackend> | undefined;

  constructor(private readonly load: () => Promise<KeyBackend>) {}

  private backend(): Promise<KeyBackend> {
    if (!this.loading) {
      this.loading = this.load();
      // A failed load is tried again on the next use rather than remembered.
      this.loading.catch(() => (this.loading = undefined));
    }
    return this.loading;
  }

  async generate(...a: Parameters<KeyBackend['generate']>): ReturnType<KeyBackend['generate']> {
    return (await this.backend()).generate(...a);
  }
  async symmetricEncrypt(...a: Parameters<KeyBackend['symmetricEncrypt']>): ReturnType<KeyBackend['symmetricEncrypt']> {
    return (await this.backend()).symmetricEncrypt(...a);
  }
  async symmetricDecrypt(...a: Parameters<KeyBackend['symmetricDecrypt']>): ReturnType<KeyBackend['symmetricDecrypt']> {
    return (await this.backend()).symmetricDecrypt(...a);
  }
  async mac(...a: Parameters<KeyBackend['mac']>): ReturnType<KeyBackend['mac']> {
    return (await this.backend()).mac(...a);
  }
  async sign(...a: Parameters<KeyBackend['sign']>): ReturnType<KeyBackend['sign']> {
    return (await this.backend()).sign(...a);
  }
  async asymmetricDecrypt(...a: Parameters<KeyBackend['asymmetricDecrypt']>): ReturnType<KeyBackend['asymmetricDecrypt']> {
    return (await this.backend()).asymmetricDecrypt(...a);
  }
  async wrapForExport(...a: Parameters<KeyBackend['wrapForExport']>): ReturnType<KeyBackend['wrapForExport']> {
    return (await this.backend()).wrapForExport(...a);
  }
  async keyCheckValue(...a: Parameters<KeyBackend['keyCheckValue']>): ReturnType<KeyBackend['keyCheckValue']> {
    return (await this.backend()).keyCheckValue(...a);
  }
  async destroy(...a: Parameters<KeyBackend['destroy']>): ReturnType<KeyBackend['destroy']> {
    return (await this.backend()).destroy(...a);
  }
}

type TokenMethods = Required<Pick<KeyBackend, 'listKeyroomObjects' | 'destroyKeyroomObjects'>>;

/** The same for a token backend: its token-only methods are forwarded too. */
export class LazyTokenBackend extends LazyBackend implements TokenMethods {
  constructor(private readonly loadToken: () => Promise<KeyBackend & TokenMethods>) {
    super(loadToken);
  }

  async listKeyroomObjects(): ReturnType<TokenMethods['listKeyroomObjects']> {
    return (await this.loadToken()).listKeyroomObjects();
  }
  async destroyKeyroomObjects(...a: Parameters<TokenMethods['destroyKeyroomObjects']>): ReturnType<TokenMethods['destroyKeyroomObjects']> {
    return (await this.loadToken()).destroyKeyroomObjects(...a);
  }
}
