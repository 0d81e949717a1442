/**
 * ProtectionLevel HSM: keys generated inside a PKCS#11 token and used there; Keyroom holds only
 * their CKA_ID (16 random bytes, recorded as the version's hsmObjectId) and the public key.
 *
 * What the objects look like is in keyTemplates.ts; the DER in and out of the token in
 * encoding.ts. Object handles are found by CKA_ID and cached per session-manager generation.
 *
 * Where SoftHSM 2.6 falls short the backend says so in code: AES-GCM tag and OAEP padding
 * failures come back as CKR_GENERAL_ERROR; CKM_RSA_PKCS_OAEP takes SHA-1 only, so OAEP with
 * SHA-256 decrypts with CKM_RSA_X_509 in the token and checks the padding here (oaep.ts).
 * Export wrapping (exportWrap.ts) has no such way round: SHA-256 OAEP wrapping is refused there.
 */
import { randomBytes } from 'node:crypto';
import pkcs11js from 'pkcs11js';
import { KmsError } from '../../../src-shared/errors';
import {
  KEY_SPEC_INFO,
  type EncryptionAlgorithm,
  type KeySpec,
  type KeyUsage,
  type MacAlgorithm,
} from '../../../src-shared/domain/keySpecs';
import type { BackendSigningAlgorithm, ExportWrapRequest, KeyBackend, KeyroomTokenObject, NewMaterial, SealedBox, StoredVersion, WrappedMaterial } from '../backend';
import { wipe } from '../../crypto/wipe';
import { CKZ_DATA_SPECIFIED } from './constants';
import { OAEP_PARAMS_REFUSED, hasCkr, keyNotFound } from './errors';
import { CURVES, ecdsaRawToDer, ecPointFromAttribute, ecSpki, ed25519PointFromAttribute, rsaSpki, sha256DigestInfo, type TokenCurve } from './encoding';
import { ED25519_SIGNATURE_BYTES, ed25519SpkiFromRaw } from '../../crypto/ed25519';
import { pkcs1DigestInfo } from '../../crypto/rsa';
import { HMAC_MECHANISM, generationPlan, requiredMechanisms } from './keyTemplates';
import { emeOaepDecode } from './oaep';
import { findKeyroomObjects } from './keyroomObjects';
import { refuseUnsupportedScheme, requireExtractable, rsaWrappingKey, wrapInToken } from './exportWrap';
import type { Pkcs11SessionManager, SessionLease, TokenIdentity } from './sessionManager';
import { KEYROOM_MECHANISMS as M } from './tokens';

/** generate()'s options; `usage` narrows the usage flags (the services should pass it). */
export interface Pkcs11GenerateOptions {
  exportable: boolean;
  keyId: string;
  keyVersionId: string;
  usage?: KeyUsage;
}

/** A stored version, with the serial of the token its key was made on when the caller knows it. */
export type HsmStoredVersion = StoredVersion;

const OBJECT_ID_BYTES = 16;
const GCM_TAG_BYTES = 16;
const GCM_IV_BYTES = 12;
/** Return values with which tokens (SoftHSM: CKR_GENERAL_ERROR) report a failed tag or padding. */
const DECRYPT_FAILURES = [
  'CKR_ENCRYPTED_DATA_INVALID',
  'CKR_ENCRYPTED_DATA_LEN_RANGE',
  'CKR_DATA_INVALID',
  'CKR_DATA_LEN_RANGE',
  'CKR_GENERAL_ERROR',
  'CKR_FUNCTION_FAILED',
] as const;

type ObjectClass = 'secret' | 'private' | 'public';

const CLASS: Readonly<Record<ObjectClass, number>> = {
  secret: pkcs11js.CKO_SECRET_KEY,
  private: pkcs11js.CKO_PRIVATE_KEY,
  public: pkcs11js.CKO_PUBLIC_KEY,
};

function attr(type: number, value: pkcs11js.Attribute['value']): pkcs11js.Attribute {
  return { type, value };
}

export class Pkcs11Backend implements KeyBackend {
  /** Object handles by CKA_ID and class, valid for one generation of one session manager. */
  private readonly handles = new Map<string, { manager: Pkcs11SessionManager; generation: number; handle: Buffer }>();
  /** Whether the token's CKM_RSA_PKCS_OAEP takes SHA-256 (learnt on first use). */
  private oaepSha256Native: boolean | undefined;

  private manager: Pkcs11SessionManager | null = null;
  private connecting: Promise<Pkcs11SessionManager> | null = null;

  /**
   * With a session manager, or with a function that opens one: then the token is reached (module
   * loaded, PIN asked for, login) only when an HSM key is first used, so a front door can offer the
   * HSM without a token for sessions that never touch one. A failed connection (wrong PIN, absent
   * token, missing module) is reported by that operation, and the next one tries again.
   */
  constructor(private readonly source: Pkcs11SessionManager | (() => Promise<Pkcs11SessionManager>)) {
    if (typeof source !== 'function') this.manager = source;
  }

  /** The session manager, connecting first if needed. */
  async sessionManager(): Promise<Pkcs11SessionManager> {
    if (this.manager && !this.manager.isClosed) return this.manager;
    if (typeof this.source !== 'function') {
      throw new KmsError('Hsm.NotConfigured', 'The HSM session was closed; open it again.');
    }
    this.connecting ??= this.source().finally(() => {
      this.connecting = null;
    });
    const connected = await this.connecting;
    // A login (useSessionManager) that landed while this connection was made wins.
    if (this.manager && !this.manager.isClosed && this.manager !== connected) {
      await connected.close();
      return this.manager;
    }
    this.adopt(connected);
    return connected;
  }

  /**
   * Use `manager` from now on (an explicit login: the app's LoginToken), closing the one in use
   * after the operations that hold its sessions finish.
   */
  async useSessionManager(manager: Pkcs11SessionManager): Promise<void> {
    const previous = this.manager;
    this.adopt(manager);
    if (previous && previous !== manager) await previous.close();
  }

  /** The token this backend is logged in to now, if it is (without connecting). */
  get connectedToken(): TokenIdentity | undefined {
    return this.manager && !this.manager.isClosed ? this.manager.token : undefined;
  }

  /** Close the session manager (log out, C_Finalize) if this backend opened or was given one. */
  async close(): Promise<void> {
    const m = this.manager;
    this.manager = null;
    await m?.close();
  }

  /** Handles and learnt facts belong to one manager: its generations restart at 1. */
  private adopt(manager: Pkcs11SessionManager): void {
    this.manager = manager;
    this.handles.clear();
    this.oaepSha256Native = undefined;
  }

  // ---- generation ----------------------------------------------------------------------------

  async generate(spec: KeySpec, opts: Pkcs11GenerateOptions): Promise<NewMaterial> {
    const manager = await this.sessionManager();
    this.requireMechanisms(manager, spec, opts.usage);
    const id = randomBytes(OBJECT_ID_BYTES);
    const plan = generationPlan(spec, { id, keyId: opts.keyId, keyVersionId: opts.keyVersionId, exportable: opts.exportable, usage: opts.usage });
    if (plan.kind === 'unsupported') throw this.unsupported(manager.token, spec, plan.why);
    return manager.run(`generate a ${spec} key`, async (s) => {
      const made = { material: null, hsmObjectId: id, tokenSerial: s.token.serial };
      if (plan.kind === 'secret') {
        const key = await s.p11.C_GenerateKeyAsync(s.handle, plan.mechanism, plan.template);
        this.checkProtection(s, [key], id, opts.exportable);
        return { ...made, publicKey: null };
      }
      const pair = await s.p11.C_GenerateKeyPairAsync(s.handle, plan.mechanism, plan.publicTemplate, plan.privateTemplate);
      try {
        this.checkProtection(s, [pair.privateKey], id, opts.exportable);
        const pk = plan.publicKey;
        const publicKey = pk.family === 'RSA' ? this.rsaPublicKey(s, pair.publicKey) : pk.family === 'EC' ? this.ecPublicKey(s, pair.publicKey, pk.curve) : this.ed25519PublicKey(s, pair.publicKey);
        return { ...made, publicKey };
      } catch (e) {
        this.destroyQuietly(s, [pair.privateKey, pair.publicKey]);
        throw e;
      }
    });
  }

  /** Refuse up front (before anything is made) a spec whose mechanisms or key size the token lacks. */
  private requireMechanisms(manager: Pkcs11SessionManager, spec: KeySpec, usage: KeyUsage | undefined): void {
    const needed = requiredMechanisms(spec, usage);
    if (!Array.isArray(needed)) throw this.unsupported(manager.token, spec, needed.unsupported);
    const have = manager.mechanisms();
    const missing = needed.filter((m) => !have.has(M[m]));
    if (missing.length) throw this.unsupported(manager.token, spec, `it lacks ${missing.map((m) => `CKM_${m}`).join(', ')}`);
    const bits = KEY_SPEC_INFO[spec].modulusBits;
    if (bits) {
      const range = manager.mechanismInfo(M.RSA_PKCS_KEY_PAIR_GEN);
      if (bits < range.minKeySize || bits > range.maxKeySize) {
        throw this.unsupported(manager.token, spec, `its RSA keys are ${range.minKeySize} to ${range.maxKeySize} bits`);
      }
    }
  }

  private unsupported(t: TokenIdentity, spec: KeySpec, why: string): KmsError {
    return new KmsError(
      'Hsm.MechanismUnsupported',
      `Token "${t.label}" (serial ${t.serial}) cannot hold a ${spec} key: ${why} (CKR_MECHANISM_INVALID). A SOFTWARE key (ProtectionLevel SOFTWARE) is the alternative.`,
    );
  }

  /** Read back what the token made: a token that ignored SENSITIVE or EXTRACTABLE is refused. */
  private checkProtection(s: SessionLease, keys: Buffer[], id: Buffer, exportable: boolean): void {
    for (const key of keys) {
      const [sensitive, extractable] = s.p11.C_GetAttributeValue(s.handle, key, [{ type: pkcs11js.CKA_SENSITIVE }, { type: pkcs11js.CKA_EXTRACTABLE }]);
      const isSensitive = sensitive?.value[0] === 1;
      const isExtractable = extractable?.value[0] === 1;
      if (!isSensitive || isExtractable !== exportable) {
        this.destroyQuietly(s, keys);
        throw new KmsError(
          'Hsm.DeviceError',
          `The token made the key (CKA_ID ${id.toString('hex')}) with CKA_SENSITIVE ${isSensitive} and CKA_EXTRACTABLE ${isExtractable}, not as asked; it was destroyed (CKR_TEMPLATE_INCONSISTENT).`,
        );
      }
    }
  }

  private rsaPublicKey(s: SessionLease, key: Buffer): Buffer {
    const [n, e] = s.p11.C_GetAttributeValue(s.handle, key, [{ type: pkcs11js.CKA_MODULUS }, { type: pkcs11js.CKA_PUBLIC_EXPONENT }]);
    return rsaSpki(n!.value, e!.value);
  }

  private ecPublicKey(s: SessionLease, key: Buffer, curve: TokenCurve): Buffer {
    const [point] = s.p11.C_GetAttributeValue(s.handle, key, [{ type: pkcs11js.CKA_EC_POINT }]);
    return ecSpki(curve, ecPointFromAttribute(point!.value, curve));
  }

  private ed25519PublicKey(s: SessionLease, key: Buffer): Buffer {
    const [point] = s.p11.C_GetAttributeValue(s.handle, key, [{ type: pkcs11js.CKA_EC_POINT }]);
    return ed25519SpkiFromRaw(ed25519PointFromAttribute(point!.value));
  }

  private destroyQuietly(s: SessionLease, keys: Buffer[]): void {
    for (const k of keys) {
      try {
        s.p11.C_DestroyObject(s.handle, k);
      } catch {
        // best effort: the caller reports the original failure
      }
    }
  }

  // ---- finding a version's objects -----------------------------------------------------------

  private objectIdOf(manager: Pkcs11SessionManager, v: HsmStoredVersion): Buffer {
    if (!v.hsmObjectId) throw new KmsError('Internal', `Key version ${v.keyVersionId} is an HSM version without a CKA_ID.`);
    const want = v.tokenSerial;
    const have = manager.token;
    if (want && want !== have.serial) {
      throw new KmsError(
        'Hsm.TokenNotPresent',
        `Key ${v.keyId} lives on the token with serial ${want}, which is not the one connected ("${have.label}", serial ${have.serial}) (CKR_TOKEN_NOT_PRESENT): connect that token.`,
      );
    }
    return v.hsmObjectId;
  }

  private findObjects(s: SessionLease, template: pkcs11js.Template): Buffer[] {
    s.p11.C_FindObjectsInit(s.handle, template);
    try {
      const found: Buffer[] = [];
      for (;;) {
        const batch = s.p11.C_FindObjects(s.handle, 16);
        found.push(...batch);
        if (batch.length < 16) return found;
      }
    } finally {
      s.p11.C_FindObjectsFinal(s.handle);
    }
  }

  private lookup(manager: Pkcs11SessionManager, s: SessionLease, id: Buffer, cls: ObjectClass, fresh: boolean): Buffer {
    const cacheKey = `${id.toString('hex')}/${cls}`;
    const cached = this.handles.get(cacheKey);
    if (!fresh && cached && cached.manager === manager && cached.generation === s.generation) return cached.handle;
    const template = [attr(pkcs11js.CKA_ID, id), attr(pkcs11js.CKA_CLASS, CLASS[cls])];
    let [handle] = this.findObjects(s, template);
    // Private objects are invisible without a login: look again once logged in before saying "gone".
    if (!handle && manager.loginIfNeeded(s)) [handle] = this.findObjects(s, template);
    if (!handle) {
      this.handles.delete(cacheKey);
      const t = s.token;
      throw keyNotFound({ action: 'use the key', tokenLabel: t.label, tokenSerial: t.serial, objectId: id });
    }
    this.handles.set(cacheKey, { manager, generation: s.generation, handle });
    return handle;
  }

  /**
   * Run `op` with the version's object of this class. A handle that went stale (the object was
   * deleted or the token reloaded) is looked up once more; an object that is gone is KeyNotFound.
   */
  private async withKey<T>(
    v: HsmStoredVersion,
    cls: ObjectClass,
    action: string,
    op: (s: SessionLease, key: Buffer) => Promise<T> | T,
    invalidCiphertext?: string,
  ): Promise<T> {
    const manager = await this.sessionManager();
    const id = this.objectIdOf(manager, v);
    return manager.run(
      `${action} with key version ${v.keyVersionId}`,
      async (s) => {
        const key = this.lookup(manager, s, id, cls, false);
        try {
          return await op(s, key);
        } catch (e) {
          if (!hasCkr(e, 'CKR_KEY_HANDLE_INVALID', 'CKR_OBJECT_HANDLE_INVALID')) throw e;
          return await op(s, this.lookup(manager, s, id, cls, true));
        }
      },
      {
        objectId: id,
        ...(invalidCiphertext ? { invalidCiphertext: { codes: DECRYPT_FAILURES, message: invalidCiphertext } } : {}),
      },
    );
  }

  // ---- operations ----------------------------------------------------------------------------

  private gcm(iv: Buffer, aad: Buffer): pkcs11js.Mechanism {
    if (iv.length !== GCM_IV_BYTES) throw new KmsError('Internal', `AES-GCM takes a ${GCM_IV_BYTES}-byte IV.`);
    const parameter: pkcs11js.GcmParams = { type: pkcs11js.CK_PARAMS_GCM, iv, ivBits: GCM_IV_BYTES * 8, aad, tagBits: GCM_TAG_BYTES * 8 };
    return { mechanism: M.AES_GCM, parameter };
  }

  private requireFamily(v: StoredVersion, ...families: string[]): void {
    const family = KEY_SPEC_INFO[v.keySpec].family;
    if (!families.includes(family)) {
      throw new KmsError('Hsm.MechanismUnsupported', `A ${v.keySpec} key in a token cannot do this; only ${families.join(' or ')} keys can. A SOFTWARE key is the alternative.`);
    }
  }

  async symmetricEncrypt(v: StoredVersion, iv: Buffer, plaintext: Uint8Array, aad: Buffer): Promise<SealedBox> {
    this.requireFamily(v, 'AES');
    const input = Buffer.from(plaintext);
    try {
      const out = await this.withKey(v, 'secret', 'encrypt', (s, key) => {
        s.p11.C_EncryptInit(s.handle, this.gcm(iv, aad), key);
        const buffer = Buffer.alloc(input.length + GCM_TAG_BYTES);
        // An empty plaintext: pkcs11js passes a null pointer for it, which C_Encrypt refuses.
        return Buffer.from(input.length === 0 ? s.p11.C_EncryptFinal(s.handle, buffer) : s.p11.C_Encrypt(s.handle, input, buffer));
      });
      if (out.length !== input.length + GCM_TAG_BYTES) throw new KmsError('Hsm.DeviceError', 'The token returned AES-GCM output of the wrong length.');
      return { ciphertext: out.subarray(0, input.length), tag: out.subarray(input.length) };
    } finally {
      wipe(input);
    }
  }

  async symmetricDecrypt(v: StoredVersion, iv: Buffer, box: SealedBox, aad: Buffer): Promise<Buffer> {
    this.requireFamily(v, 'AES');
    if (box.tag.length !== GCM_TAG_BYTES) throw new KmsError('InvalidCiphertext', 'The ciphertext failed authentication.');
    const input = Buffer.concat([box.ciphertext, box.tag]);
    return this.withKey(
      v,
      'secret',
      'decrypt',
      (s, key) => {
        s.p11.C_DecryptInit(s.handle, this.gcm(iv, aad), key);
        const out = s.p11.C_Decrypt(s.handle, input, Buffer.alloc(input.length));
        if (out.length !== box.ciphertext.length) throw new KmsError('Hsm.DeviceError', 'The token returned AES-GCM plaintext of the wrong length.');
        return out;
      },
      'The ciphertext failed authentication: it was altered, or the EncryptionContext differs',
    );
  }

  async mac(v: StoredVersion, algorithm: MacAlgorithm, message: Uint8Array): Promise<Buffer> {
    this.requireFamily(v, 'HMAC');
    const { mechanism, bytes } = HMAC_MECHANISM[algorithm];
    const input = Buffer.from(message);
    return this.withKey(v, 'secret', 'compute a MAC', (s, key) => {
      s.p11.C_SignInit(s.handle, { mechanism: M[mechanism] }, key);
      const out = Buffer.alloc(bytes);
      // An empty message: C_Sign would get a null pointer (see symmetricEncrypt); C_SignFinal alone is the same MAC.
      return Buffer.from(input.length === 0 ? s.p11.C_SignFinal(s.handle, out) : s.p11.C_Sign(s.handle, input, out));
    });
  }

  async sign(v: StoredVersion, algorithm: BackendSigningAlgorithm, digest: Uint8Array): Promise<Buffer> {
    const info = KEY_SPEC_INFO[v.keySpec];
    const d = Buffer.from(digest);
    switch (algorithm) {
      case 'RSA_PSS_SHA_256':
      case 'RSA_PKCS1_SHA_256':
      case 'RSA_PKCS1_SHA_512': {
        this.requireFamily(v, 'RSA');
        const sha512 = algorithm === 'RSA_PKCS1_SHA_512';
        if (d.length !== (sha512 ? 64 : 32)) throw new KmsError('InvalidParameter.Digest', `${algorithm} signs a ${sha512 ? '64-byte SHA-512' : '32-byte SHA-256'} digest.`);
        const pss = algorithm === 'RSA_PSS_SHA_256';
        const parameter: pkcs11js.RsaPSS = { type: pkcs11js.CK_PARAMS_RSA_PSS, hashAlg: pkcs11js.CKM_SHA256, mgf: pkcs11js.CKG_MGF1_SHA256, saltLen: 32 };
        const mechanism: pkcs11js.Mechanism = pss ? { mechanism: M.RSA_PKCS_PSS, parameter } : { mechanism: M.RSA_PKCS };
        const data = pss ? d : sha512 ? pkcs1DigestInfo('sha512', d) : sha256DigestInfo(d);
        const k = info.modulusBits! / 8;
        return this.withKey(v, 'private', 'sign', async (s, key) => {
          s.p11.C_SignInit(s.handle, mechanism, key);
          const sig = Buffer.from(await s.p11.C_SignAsync(s.handle, data, Buffer.alloc(k)));
          if (sig.length !== k) throw new KmsError('Hsm.DeviceError', `The token returned an RSA signature of ${sig.length} bytes; expected ${k}.`);
          return sig;
        });
      }
      case 'ECDSA_SHA_256':
      case 'ECDSA_SHA_384': {
        this.requireFamily(v, 'EC');
        const curve = info.curve as TokenCurve;
        const { fieldBytes } = CURVES[curve];
        return this.withKey(v, 'private', 'sign', async (s, key) => {
          s.p11.C_SignInit(s.handle, { mechanism: M.ECDSA }, key);
          const raw = await s.p11.C_SignAsync(s.handle, d, Buffer.alloc(2 * fieldBytes));
          return ecdsaRawToDer(raw, fieldBytes);
        });
      }
      case 'SM2DSA':
        throw this.unsupported((await this.sessionManager()).token, v.keySpec, 'SM2 signatures need a vendor-defined mechanism');
      case 'ED25519': {
        // Pure EdDSA (CKM_EDDSA without parameters): `digest` is the message itself.
        this.requireFamily(v, 'ED25519');
        return this.withKey(v, 'private', 'sign', async (s, key) => {
          s.p11.C_SignInit(s.handle, { mechanism: M.EDDSA }, key);
          // An empty message: pkcs11js hands the token a null pointer for a bare empty Buffer, which
          // SoftHSM refuses (CKR_ARGUMENTS_BAD); an empty view into a real allocation is a valid pointer.
          const data = d.length === 0 ? Buffer.alloc(1).subarray(0, 0) : d;
          const sig = Buffer.from(await s.p11.C_SignAsync(s.handle, data, Buffer.alloc(ED25519_SIGNATURE_BYTES)));
          if (sig.length !== ED25519_SIGNATURE_BYTES) throw new KmsError('Hsm.DeviceError', `The token returned an Ed25519 signature of ${sig.length} bytes; expected 64.`);
          return sig;
        });
      }
      default: {
        const never: never = algorithm;
        throw new KmsError('Rejected.Algorithm', `Unknown algorithm ${String(never)}.`);
      }
    }
  }

  async asymmetricDecrypt(v: StoredVersion, algorithm: EncryptionAlgorithm, ciphertext: Uint8Array): Promise<Buffer> {
    switch (algorithm) {
      case 'RSAES_OAEP_SHA_256':
      case 'RSAES_OAEP_SHA_1': {
        this.requireFamily(v, 'RSA');
        const k = KEY_SPEC_INFO[v.keySpec].modulusBits! / 8;
        const ct = Buffer.from(ciphertext);
        if (ct.length !== k) throw new KmsError('InvalidCiphertext', `The ciphertext must be exactly ${k} bytes for this key.`);
        const sha1 = algorithm === 'RSAES_OAEP_SHA_1';
        if (sha1 || this.oaepSha256Native !== false) {
          try {
            const out = await this.oaepInToken(v, sha1, ct, k);
            if (!sha1) this.oaepSha256Native = true;
            return out;
          } catch (e) {
            const refused = !sha1 && e instanceof KmsError && hasCkr(e.cause, ...OAEP_PARAMS_REFUSED);
            if (!refused) throw e;
            this.oaepSha256Native = false;
          }
        }
        return this.oaepOverRawRsa(v, ct, k);
      }
      case 'ECIES_DH_SHA_1_XOR_HMAC':
        throw new KmsError(
          'Hsm.MechanismUnsupported',
          `ECIES decryption with a key in a token is not available yet (${algorithm}): Keyroom would need the shared secret from CKM_ECDH1_DERIVE. A SOFTWARE key is the alternative.`,
        );
      case 'SM2PKE':
        throw this.unsupported((await this.sessionManager()).token, v.keySpec, 'SM2 decryption needs a vendor-defined mechanism');
      default: {
        const never: never = algorithm;
        throw new KmsError('Rejected.Algorithm', `Unknown algorithm ${String(never)}.`);
      }
    }
  }

  private oaepInToken(v: StoredVersion, sha1: boolean, ct: Buffer, k: number): Promise<Buffer> {
    const parameter: pkcs11js.RsaOAEP = {
      type: pkcs11js.CK_PARAMS_RSA_OAEP,
      hashAlg: sha1 ? pkcs11js.CKM_SHA_1 : pkcs11js.CKM_SHA256,
      mgf: sha1 ? pkcs11js.CKG_MGF1_SHA1 : pkcs11js.CKG_MGF1_SHA256,
      source: CKZ_DATA_SPECIFIED,
    };
    return this.withKey(
      v,
      'private',
      'decrypt',
      async (s, key) => {
        s.p11.C_DecryptInit(s.handle, { mechanism: M.RSA_PKCS_OAEP, parameter }, key);
        return Buffer.from(await s.p11.C_DecryptAsync(s.handle, ct, Buffer.alloc(k)));
      },
      'The ciphertext does not decrypt with this key and algorithm',
    );
  }

  /** OAEP with SHA-256 on tokens whose OAEP takes SHA-1 only: raw RSA inside, padding checked here. */
  private async oaepOverRawRsa(v: StoredVersion, ct: Buffer, k: number): Promise<Buffer> {
    const manager = await this.sessionManager();
    if (!manager.mechanisms().has(M.RSA_X_509)) {
      throw this.unsupported(manager.token, v.keySpec, 'its CKM_RSA_PKCS_OAEP does not take SHA-256 and it lacks CKM_RSA_X_509');
    }
    const em = await this.withKey(
      v,
      'private',
      'decrypt',
      async (s, key) => {
        s.p11.C_DecryptInit(s.handle, { mechanism: M.RSA_X_509 }, key);
        const out = await s.p11.C_DecryptAsync(s.handle, ct, Buffer.alloc(k));
        // Left-pad: some tokens drop the leading zero bytes of the integer.
        const block = Buffer.alloc(k);
        out.copy(block, k - out.length);
        wipe(out);
        return block;
      },
      'The ciphertext does not decrypt with this key and algorithm',
    );
    try {
      return emeOaepDecode(em, 'sha256');
    } finally {
      wipe(em);
    }
  }

  // ---- outbound BYOK ---------------------------------------------------------------------------

  /** The target wrapped under the cloud's key with C_WrapKey, inside the token (exportWrap.ts). */
  async wrapForExport(v: StoredVersion, request: ExportWrapRequest): Promise<WrappedMaterial> {
    this.requireFamily(v, 'AES', 'HMAC', 'RSA', 'EC');
    const family = KEY_SPEC_INFO[v.keySpec].family;
    const secret = family === 'AES' || family === 'HMAC';
    refuseUnsupportedScheme(request, secret, v.keySpec);
    const cloud = rsaWrappingKey(request.wrappingKey);
    return this.withKey(v, secret ? 'secret' : 'private', 'wrap the key for export', (s, key) => {
      requireExtractable(s, key, v.keyId);
      return wrapInToken(s, key, request, cloud, v.keySpec);
    });
  }

  /**
   * AES: the first 3 bytes of CKM_AES_ECB over one zero block (or, for a key without CKA_ENCRYPT,
   * CKA_CHECK_VALUE, which PKCS#11 defines the same way; SoftHSM's matches). HMAC: C_Sign with
   * the key's own HMAC over 16 zero bytes. The key never leaves the token.
   */
  async keyCheckValue(v: StoredVersion): Promise<Buffer> {
    const info = KEY_SPEC_INFO[v.keySpec];
    if (info.family === 'HMAC') {
      const { mechanism, bytes } = HMAC_MECHANISM[info.macAlgorithm!];
      return this.withKey(v, 'secret', 'compute the key check value', (s, key) => {
        s.p11.C_SignInit(s.handle, { mechanism: M[mechanism] }, key);
        return Buffer.from(s.p11.C_Sign(s.handle, Buffer.alloc(16), Buffer.alloc(bytes)).subarray(0, 3));
      });
    }
    if (info.family !== 'AES') {
      throw new KmsError('Rejected.KeySpec', `A key check value is defined for AES and HMAC keys, not ${v.keySpec}; an asymmetric key is checked by its public key's fingerprint.`);
    }
    const hasEcb = (await this.sessionManager()).mechanisms().has(M.AES_ECB);
    return this.withKey(v, 'secret', 'compute the key check value', (s, key) => {
      const [encrypt] = s.p11.C_GetAttributeValue(s.handle, key, [{ type: pkcs11js.CKA_ENCRYPT }]);
      if (encrypt?.value[0] === 1 && hasEcb) {
        s.p11.C_EncryptInit(s.handle, { mechanism: M.AES_ECB }, key);
        return Buffer.from(s.p11.C_Encrypt(s.handle, Buffer.alloc(16), Buffer.alloc(16)).subarray(0, 3));
      }
      let check: Buffer | undefined;
      try {
        check = s.p11.C_GetAttributeValue(s.handle, key, [{ type: pkcs11js.CKA_CHECK_VALUE }])[0]?.value;
      } catch (e) {
        if (!hasCkr(e, 'CKR_ATTRIBUTE_TYPE_INVALID', 'CKR_ATTRIBUTE_SENSITIVE')) throw e;
      }
      if (check?.length === 3) return Buffer.from(check);
      throw new KmsError(
        'Hsm.MechanismUnsupported',
        encrypt?.value[0] === 1
          ? `Token "${s.token.label}" lacks CKM_AES_ECB and gives no CKA_CHECK_VALUE, so it cannot compute the key check value of key ${v.keyId}.`
          : `Key ${v.keyId} lacks CKA_ENCRYPT (it may not encrypt) and token "${s.token.label}" gives no CKA_CHECK_VALUE, so its key check value cannot be computed.`,
      );
    });
  }

  // ---- the token's inventory (orphans: keyroomObjects.ts) ---------------------------------------

  async listKeyroomObjects(): Promise<{ token: { label: string; serial: string }; objects: KeyroomTokenObject[] }> {
    const manager = await this.sessionManager();
    return manager.run('list the Keyroom objects on the token', (s) => {
      // Private objects are invisible without a login: an orphan's private half must not be missed.
      manager.loginIfNeeded(s);
      return { token: { label: s.token.label, serial: s.token.serial }, objects: findKeyroomObjects(s).map((x) => x.object) };
    });
  }

  async destroyKeyroomObjects(objectId: Buffer): Promise<KeyroomTokenObject[]> {
    const manager = await this.sessionManager();
    return manager.run(`destroy the Keyroom objects with CKA_ID ${objectId.toString('hex')}`, (s) => {
      manager.loginIfNeeded(s);
      const found = findKeyroomObjects(s, objectId);
      for (const { handle } of found) s.p11.C_DestroyObject(s.handle, handle);
      for (const cls of Object.keys(CLASS)) this.handles.delete(`${objectId.toString('hex')}/${cls}`);
      return found.map((x) => x.object);
    });
  }

  /** C_DestroyObject every object with the version's CKA_ID. Objects already gone are fine. */
  async destroy(v: StoredVersion): Promise<void> {
    const manager = await this.sessionManager();
    const id = this.objectIdOf(manager, v);
    await manager.run(`destroy key version ${v.keyVersionId}`, (s) => {
      for (const handle of this.findObjects(s, [attr(pkcs11js.CKA_ID, id)])) {
        try {
          s.p11.C_DestroyObject(s.handle, handle);
        } catch (e) {
          if (!hasCkr(e, 'CKR_OBJECT_HANDLE_INVALID')) throw e;
        }
      }
      for (const cls of Object.keys(CLASS)) this.handles.delete(`${id.toString('hex')}/${cls}`);
    });
  }
}
