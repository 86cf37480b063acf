/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The SKF interface (GM/T 0016-2012, 智能密码钥匙密码应用接口规范) as ukey
 * calls it: types, packed structures, constants and one function *type*
 * per function. Written by this project from the standard's prototypes;
 * packing and widths are the ones vendors ship on Linux, which the
 * standard's text leaves partly open.
 *
 * Why function types and no prototypes: an SKF library is dlopen'ed, never
 * linked, so the backend dlsym()s into typed pointers (skf_EnumDev_fn *),
 * and the test double declares its definitions with the same types
 * (`skf_EnumDev_fn SKF_EnumDev;`), so that the compiler checks both sides
 * against this one header.
 *
 * Widths and packing (see shared/reference/skf.md):
 *  - ULONG and DWORD are 32 bits, as the standard says, even where a
 *    vendor header spells them `unsigned long`.
 *  - BOOL is 32 bits, as Longmai's and Tongsuo's headers make it. Some
 *    headers use `long` (8 bytes here): a library built that way writes
 *    8 bytes through a BOOL *, so callers pass a zeroed 8-byte slot or
 *    read only the low 32 bits of a zeroed one.
 *  - Every structure is packed to 1 byte (vendors build with
 *    `#pragma pack(1)`): DEVINFO is 294 bytes with AlgSymCap at offset
 *    198; natural alignment would make it 296 and shift every field after
 *    the versions. The _Static_asserts below hold the layout.
 *  - CHAR is `char` here where the standard says UINT8: same size and the
 *    same calling convention, and C string functions take it unwarned.
 *  - DEVAPI (a calling convention on Windows) is empty on Linux.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

typedef uint8_t BYTE;
typedef char CHAR;
typedef int32_t LONG;
typedef uint32_t ULONG;
typedef uint32_t DWORD;
typedef int32_t BOOL;
typedef CHAR *LPSTR;
typedef void *HANDLE;
typedef HANDLE DEVHANDLE;
typedef HANDLE HAPPLICATION;
typedef HANDLE HCONTAINER;

#define DEVAPI

#ifndef TRUE
#define TRUE 1
#endif
#ifndef FALSE
#define FALSE 0
#endif

/* Field sizes fixed by the standard. */
#define MAX_RSA_MODULUS_LEN 256
#define MAX_RSA_EXPONENT_LEN 4
#define ECC_MAX_XCOORDINATE_BITS_LEN 512
#define ECC_MAX_YCOORDINATE_BITS_LEN 512
#define ECC_MAX_MODULUS_BITS_LEN 512
#define MAX_IV_LEN 32
#define MAX_FILE_NAME_SIZE 32
#define MAX_FILE_CONTAINER_NAME_SIZE 64

#pragma pack(push, 1)

typedef struct Struct_Version {
	BYTE major;
	BYTE minor;
} VERSION;

typedef struct Struct_DEVINFO {
	VERSION Version;
	/* Text fields: NUL-padded when shorter, NOT terminated when a vendor
	 * fills all of them. UTF-8 by the standard, GBK from older tools. */
	CHAR Manufacturer[64];
	CHAR Issuer[64];
	CHAR Label[32];
	CHAR SerialNumber[32];
	VERSION HWVersion;
	VERSION FirmwareVersion;
	ULONG AlgSymCap;  /* OR of SGD_* symmetric ids */
	ULONG AlgAsymCap; /* OR of SGD_RSA / SGD_SM2_* */
	ULONG AlgHashCap; /* OR of SGD_SM3 / SGD_SHA* */
	ULONG DevAuthAlgId;
	ULONG TotalSpace;
	ULONG FreeSpace;
	ULONG MaxECCBufferSize;
	ULONG MaxBufferSize;
	BYTE Reserved[64];
} DEVINFO;

typedef struct Struct_RSAPUBLICKEYBLOB {
	ULONG AlgID;
	ULONG BitLen;
	BYTE Modulus[MAX_RSA_MODULUS_LEN];
	BYTE PublicExponent[MAX_RSA_EXPONENT_LEN];
} RSAPUBLICKEYBLOB;

/* Coordinates are big-endian and right-aligned in their 64-byte fields:
 * an SM2 (256-bit) X is in XCoordinate[32..63], [0..31] are zero. */
typedef struct Struct_ECCPUBLICKEYBLOB {
	ULONG BitLen;
	BYTE XCoordinate[ECC_MAX_XCOORDINATE_BITS_LEN / 8];
	BYTE YCoordinate[ECC_MAX_YCOORDINATE_BITS_LEN / 8];
} ECCPUBLICKEYBLOB;

typedef struct Struct_ECCPRIVATEKEYBLOB {
	ULONG BitLen;
	BYTE PrivateKey[ECC_MAX_MODULUS_BITS_LEN / 8];
} ECCPRIVATEKEYBLOB;

/*
 * An SM2 ciphertext in the order C1 C3 C2: the point C1 (right-aligned like
 * a public key), the SM3 hash C3, then CipherLen bytes of C2. Variable
 * length: the standard writes `Cipher[1]`, which makes sizeof() one byte
 * too large; here it is a flexible array member, so sizeof() is the 164
 * bytes of the header and SKF_ECCCIPHERBLOB_SIZE() the whole blob.
 * (ENVELOPEDKEYBLOB embeds this structure, so it cannot be declared with
 * it; ukey imports no key pairs and leaves it out.)
 */
typedef struct Struct_ECCCIPHERBLOB {
	BYTE XCoordinate[ECC_MAX_XCOORDINATE_BITS_LEN / 8];
	BYTE YCoordinate[ECC_MAX_XCOORDINATE_BITS_LEN / 8];
	BYTE HASH[32];
	ULONG CipherLen;
	BYTE Cipher[];
} ECCCIPHERBLOB;
#define SKF_ECCCIPHERBLOB_SIZE(cipher_len) (offsetof(ECCCIPHERBLOB, Cipher) + (size_t)(cipher_len))

/* r and s right-aligned in 64-byte fields, like the coordinates. */
typedef struct Struct_ECCSIGNATUREBLOB {
	BYTE r[ECC_MAX_XCOORDINATE_BITS_LEN / 8];
	BYTE s[ECC_MAX_XCOORDINATE_BITS_LEN / 8];
} ECCSIGNATUREBLOB;

/* Passed BY VALUE to SKF_EncryptInit/SKF_DecryptInit: 44 bytes on the
 * stack, so its packing is part of the calling convention. */
typedef struct Struct_BLOCKCIPHERPARAM {
	BYTE IV[MAX_IV_LEN];
	ULONG IVLen;
	ULONG PaddingType; /* SKF_NO_PADDING or SKF_PKCS5_PADDING */
	ULONG FeedBitLen;  /* CFB only */
} BLOCKCIPHERPARAM;

typedef struct Struct_FILEATTRIBUTE {
	CHAR FileName[MAX_FILE_NAME_SIZE];
	ULONG FileSize;
	ULONG ReadRights;  /* SECURE_* */
	ULONG WriteRights; /* SECURE_* */
} FILEATTRIBUTE;

#pragma pack(pop)

_Static_assert(sizeof(VERSION) == 2, "VERSION is two bytes");
_Static_assert(sizeof(DEVINFO) == 294, "DEVINFO must be packed: 294 bytes");
_Static_assert(offsetof(DEVINFO, AlgSymCap) == 198, "DEVINFO.AlgSymCap at 198 when packed");
_Static_assert(sizeof(RSAPUBLICKEYBLOB) == 268, "RSAPUBLICKEYBLOB is 268 bytes");
_Static_assert(sizeof(ECCPUBLICKEYBLOB) == 132, "ECCPUBLICKEYBLOB is 132 bytes");
_Static_assert(sizeof(ECCPRIVATEKEYBLOB) == 68, "ECCPRIVATEKEYBLOB is 68 bytes");
_Static_assert(sizeof(ECCCIPHERBLOB) == 164, "ECCCIPHERBLOB header is 164 bytes");
_Static_assert(sizeof(ECCSIGNATUREBLOB) == 128, "ECCSIGNATUREBLOB is 128 bytes");
_Static_assert(sizeof(BLOCKCIPHERPARAM) == 44, "BLOCKCIPHERPARAM is 44 bytes");
_Static_assert(sizeof(FILEATTRIBUTE) == 44, "FILEATTRIBUTE is 44 bytes");
_Static_assert(sizeof(ULONG) == 4 && sizeof(DWORD) == 4 && sizeof(BOOL) == 4,
	       "ULONG, DWORD and BOOL are 32 bits");

/* Return codes (the standard's appendix). Spellings are the standard's,
 * typos included (KEYNOTFOUNT), so vendor documentation greps. Vendors
 * add their own outside 0x0A0000xx (Longmai: 0x0B0000xx). */
#define SAR_OK 0x00000000u
#define SAR_FAIL 0x0A000001u
#define SAR_UNKNOWNERR 0x0A000002u
#define SAR_NOTSUPPORTYETERR 0x0A000003u
#define SAR_FILEERR 0x0A000004u
#define SAR_INVALIDHANDLEERR 0x0A000005u
#define SAR_INVALIDPARAMERR 0x0A000006u
#define SAR_READFILEERR 0x0A000007u
#define SAR_WRITEFILEERR 0x0A000008u
#define SAR_NAMELENERR 0x0A000009u
#define SAR_KEYUSAGEERR 0x0A00000Au
#define SAR_MODULUSLENERR 0x0A00000Bu
#define SAR_NOTINITIALIZEERR 0x0A00000Cu
#define SAR_OBJERR 0x0A00000Du
#define SAR_MEMORYERR 0x0A00000Eu
#define SAR_TIMEOUTERR 0x0A00000Fu
#define SAR_INDATALENERR 0x0A000010u
#define SAR_INDATAERR 0x0A000011u
#define SAR_GENRANDERR 0x0A000012u
#define SAR_HASHOBJERR 0x0A000013u
#define SAR_HASHERR 0x0A000014u
#define SAR_GENRSAKEYERR 0x0A000015u
#define SAR_RSAMODULUSLENERR 0x0A000016u
#define SAR_CSPIMPRTPUBKEYERR 0x0A000017u
#define SAR_RSAENCERR 0x0A000018u
#define SAR_RSADECERR 0x0A000019u
#define SAR_HASHNOTEQUALERR 0x0A00001Au
#define SAR_KEYNOTFOUNTERR 0x0A00001Bu
#define SAR_CERTNOTFOUNTERR 0x0A00001Cu
#define SAR_NOTEXPORTERR 0x0A00001Du
#define SAR_DECRYPTPADERR 0x0A00001Eu
#define SAR_MACLENERR 0x0A00001Fu
#define SAR_BUFFER_TOO_SMALL 0x0A000020u
#define SAR_KEYINFOTYPEERR 0x0A000021u
#define SAR_NOT_EVENTERR 0x0A000022u
#define SAR_DEVICE_REMOVED 0x0A000023u
#define SAR_PIN_INCORRECT 0x0A000024u
#define SAR_PIN_LOCKED 0x0A000025u
#define SAR_PIN_INVALID 0x0A000026u
#define SAR_PIN_LEN_RANGE 0x0A000027u
#define SAR_USER_ALREADY_LOGGED_IN 0x0A000028u
#define SAR_USER_PIN_NOT_INITIALIZED 0x0A000029u
#define SAR_USER_TYPE_INVALID 0x0A00002Au
#define SAR_APPLICATION_NAME_INVALID 0x0A00002Bu
#define SAR_APPLICATION_EXISTS 0x0A00002Cu
#define SAR_USER_NOT_LOGGED_IN 0x0A00002Du
#define SAR_APPLICATION_NOT_EXISTS 0x0A00002Eu
#define SAR_FILE_ALREADY_EXIST 0x0A00002Fu
#define SAR_NO_ROOM 0x0A000030u
#define SAR_FILE_NOT_EXIST 0x0A000031u
#define SAR_REACH_MAX_CONTAINER_COUNT 0x0A000032u

/* PIN types (ulPINType). */
#define ADMIN_TYPE 0
#define USER_TYPE 1

/* Access rights of files and applications: a bit mask, ANYONE all bits. */
#define SECURE_NEVER_ACCOUNT 0x00000000u
#define SECURE_ADM_ACCOUNT 0x00000001u
#define SECURE_USER_ACCOUNT 0x00000010u
#define SECURE_ANYONE_ACCOUNT 0x000000FFu

/* Algorithm ids (GM/T 0006), as DEVINFO capability bits and ulAlgId. */
#define SGD_SM1_ECB 0x00000101u
#define SGD_SM1_CBC 0x00000102u
#define SGD_SSF33_ECB 0x00000201u
#define SGD_SSF33_CBC 0x00000202u
#define SGD_SM4_ECB 0x00000401u
#define SGD_SM4_CBC 0x00000402u
#define SGD_SM4_CFB 0x00000404u
#define SGD_SM4_OFB 0x00000408u
#define SGD_SM4_MAC 0x00000410u
#define SGD_RSA 0x00010000u
#define SGD_SM2 0x00020100u
#define SGD_SM2_1 0x00020200u /* signature */
#define SGD_SM2_2 0x00020400u /* key exchange */
#define SGD_SM2_3 0x00020800u /* encryption */
#define SGD_SM3 0x00000001u
#define SGD_SHA1 0x00000002u
#define SGD_SHA256 0x00000004u

/* SKF_GetContainerType. */
#define SKF_CONTAINER_TYPE_EMPTY 0u /* no key pair yet */
#define SKF_CONTAINER_TYPE_RSA 1u
#define SKF_CONTAINER_TYPE_ECC 2u /* SM2 */

/* SKF_WaitForDevEvent's *pulEvent. */
#define SKF_DEV_EVENT_INSERTED 1u
#define SKF_DEV_EVENT_REMOVED 2u

/* BLOCKCIPHERPARAM.PaddingType. */
#define SKF_NO_PADDING 0u
#define SKF_PKCS5_PADDING 1u

/* The SM2 user ID signers use when none is agreed (GM/T 0009). */
#define SKF_SM2_DEFAULT_ID "1234567812345678"

/*
 * Length-in/length-out, for every (buffer, *length) pair below: a NULL
 * buffer asks for the size, returned in *length with SAR_OK; a buffer
 * whose *length is too small gives SAR_BUFFER_TOO_SMALL and the needed
 * size. Name lists (szNameList, szAppName, szContainerName, szFileList)
 * are NUL-terminated names followed by one more NUL; their sizes count
 * every NUL. What a library returns is still untrusted (skf-names.h).
 */

/* Devices. */
typedef ULONG skf_WaitForDevEvent_fn(LPSTR szDevName, ULONG *pulDevNameLen, ULONG *pulEvent);
typedef ULONG skf_CancelWaitForDevEvent_fn(void);
typedef ULONG skf_EnumDev_fn(BOOL bPresent, LPSTR szNameList, ULONG *pulSize);
typedef ULONG skf_ConnectDev_fn(LPSTR szName, DEVHANDLE *phDev);
typedef ULONG skf_DisConnectDev_fn(DEVHANDLE hDev);
typedef ULONG skf_GetDevInfo_fn(DEVHANDLE hDev, DEVINFO *pDevInfo);

/* PINs and the security state; they live in an application. */
typedef ULONG skf_ChangePIN_fn(HAPPLICATION hApplication, ULONG ulPINType, LPSTR szOldPin,
			       LPSTR szNewPin, ULONG *pulRetryCount);
typedef ULONG skf_GetPINInfo_fn(HAPPLICATION hApplication, ULONG ulPINType, ULONG *pulMaxRetryCount,
				ULONG *pulRemainRetryCount, BOOL *pbDefaultPin);
typedef ULONG skf_VerifyPIN_fn(HAPPLICATION hApplication, ULONG ulPINType, LPSTR szPIN,
			       ULONG *pulRetryCount);
typedef ULONG skf_UnblockPIN_fn(HAPPLICATION hApplication, LPSTR szAdminPIN, LPSTR szNewUserPIN,
				ULONG *pulRetryCount);
typedef ULONG skf_ClearSecureState_fn(HAPPLICATION hApplication);

/* Applications. */
typedef ULONG skf_EnumApplication_fn(DEVHANDLE hDev, LPSTR szAppName, ULONG *pulSize);
typedef ULONG skf_OpenApplication_fn(DEVHANDLE hDev, LPSTR szAppName, HAPPLICATION *phApplication);
typedef ULONG skf_CloseApplication_fn(HAPPLICATION hApplication);

/* Files. */
typedef ULONG skf_EnumFiles_fn(HAPPLICATION hApplication, LPSTR szFileList, ULONG *pulSize);
typedef ULONG skf_GetFileInfo_fn(HAPPLICATION hApplication, LPSTR szFileName,
				 FILEATTRIBUTE *pFileInfo);
/* ulSize bytes from ulOffset; *pulOutLen is the buffer's size in, the
 * bytes read out. */
typedef ULONG skf_ReadFile_fn(HAPPLICATION hApplication, LPSTR szFileName, ULONG ulOffset,
			      ULONG ulSize, BYTE *pbOutData, ULONG *pulOutLen);

/* Containers. */
typedef ULONG skf_OpenContainer_fn(HAPPLICATION hApplication, LPSTR szContainerName,
				   HCONTAINER *phContainer);
typedef ULONG skf_CloseContainer_fn(HCONTAINER hContainer);
typedef ULONG skf_EnumContainer_fn(HAPPLICATION hApplication, LPSTR szContainerName,
				   ULONG *pulSize);
typedef ULONG skf_GetContainerType_fn(HCONTAINER hContainer, ULONG *pulContainerType);
/* bSignFlag TRUE: the signing certificate; FALSE: the encryption one. */
typedef ULONG skf_ExportCertificate_fn(HCONTAINER hContainer, BOOL bSignFlag, BYTE *pbCert,
				       ULONG *pulCertLen);

/* Keys. */
/* An ECCPUBLICKEYBLOB (or RSAPUBLICKEYBLOB) into pbBlob. */
typedef ULONG skf_ExportPublicKey_fn(HCONTAINER hContainer, BOOL bSignFlag, BYTE *pbBlob,
				     ULONG *pulBlobLen);
/* pbDigest is e = SM3(Z || M), 32 bytes: the caller hashes, with Z from
 * the signer's public key and ID. */
typedef ULONG skf_ECCSignData_fn(HCONTAINER hContainer, BYTE *pbDigest, ULONG ulDigestLen,
				 ECCSIGNATUREBLOB *pSignature);
/* pbWrapedData: an ECCCIPHERBLOB encrypted to the container's encryption
 * key. The spelling "Wraped" is the standard's. */
typedef ULONG skf_ImportSessionKey_fn(HCONTAINER hContainer, ULONG ulAlgId, BYTE *pbWrapedData,
				      ULONG ulWrapedLen, HANDLE *phKey);
typedef ULONG skf_DecryptInit_fn(HANDLE hKey, BLOCKCIPHERPARAM DecryptParam);
typedef ULONG skf_Decrypt_fn(HANDLE hKey, BYTE *pbEncryptedData, ULONG ulEncryptedLen, BYTE *pbData,
			     ULONG *pulDataLen);
typedef ULONG skf_CloseHandle_fn(HANDLE hHandle);

/* The seal extension some CA libraries export (not in the standard): the
 * seal data of an application, after SKF_VerifyPIN. */
typedef ULONG eps_ReadESealData_fn(HAPPLICATION hApp, ULONG ulKeyIndex, ULONG ulKeyAlgId,
				   BYTE *pbData, ULONG *pulDataLen, ULONG ulFlags);

/*
 * Every standard function above, for tables of typed pointers:
 *   #define F(name) skf_##name##_fn *name;
 *   struct skf_functions { SKF_ABI_FUNCTIONS(F) };
 * and dlsym(lib, "SKF_" #name) for each. The EPS extension is apart: a
 * library may lack it.
 */
#define SKF_ABI_FUNCTIONS(X)                                                                       \
	X(WaitForDevEvent)                                                                         \
	X(CancelWaitForDevEvent)                                                                   \
	X(EnumDev)                                                                                 \
	X(ConnectDev)                                                                              \
	X(DisConnectDev)                                                                           \
	X(GetDevInfo)                                                                              \
	X(ChangePIN)                                                                               \
	X(GetPINInfo)                                                                              \
	X(VerifyPIN)                                                                               \
	X(UnblockPIN)                                                                              \
	X(ClearSecureState)                                                                        \
	X(EnumApplication)                                                                         \
	X(OpenApplication)                                                                         \
	X(CloseApplication)                                                                        \
	X(EnumFiles)                                                                               \
	X(GetFileInfo)                                                                             \
	X(ReadFile)                                                                                \
	X(OpenContainer)                                                                           \
	X(CloseContainer)                                                                          \
	X(EnumContainer)                                                                           \
	X(GetContainerType)                                                                        \
	X(ExportCertificate)                                                                       \
	X(ExportPublicKey)                                                                         \
	X(ECCSignData)                                                                             \
	X(ImportSessionKey)                                                                        \
	X(DecryptInit)                                                                             \
	X(Decrypt)                                                                                 \
	X(CloseHandle)
