/**
 * PKCS#11 numbers that pkcs11js 2.1 does not export (values from the PKCS#11 v2.40 headers).
 */
/** CK_SLOT_INFO.flags */
export const CKF_REMOVABLE_DEVICE = 0x2;
export const CKF_HW_SLOT = 0x4;
/** CK_SESSION_INFO.state */
export const CKS_RO_USER_FUNCTIONS = 1;
export const CKS_RW_USER_FUNCTIONS = 3;
/** CK_RSA_PKCS_OAEP_PARAMS.source */
export const CKZ_DATA_SPECIFIED = 0x1;
/** PKCS#11 3.0 CKK_EC_EDWARDS (Ed25519 keys). */
export const CKK_EC_EDWARDS = 0x40;
