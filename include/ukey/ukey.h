/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libukey: the client library of ukeyd, the CA token daemon.
 *
 * Tender software links libukey to see the CA tokens (UKey) plugged into
 * this machine: their serials, labels, PIN state, certificates and data
 * objects. ukeyd does all token I/O; libukey only talks to it over a
 * local socket, so a query never touches a token and never costs a PIN
 * try.
 *
 * Conventions
 * - Handles are opaque and reference counted: *_ref() adds a reference,
 *   *_unref() drops one and returns NULL. *_unref(NULL) is allowed.
 * - Functions that can fail return enum ukey_error: UKEY_OK (0) on
 *   success, a positive code otherwise; ukey_strerror() names it.
 *   Out-parameters (ret_*) are written only on success.
 * - Strings are UTF-8 and owned by the object they come from; they stay
 *   valid as long as that object is referenced.
 * - The library never prints and never calls exit().
 *
 * Thread safety
 * - A ukey_client is not thread safe: use it from one thread at a time.
 * - ukey_token, ukey_token_list, ukey_cert and ukey_object are immutable
 *   snapshots. Their getters may be called from any thread; ref/unref
 *   are atomic.
 */
#ifndef UKEY_UKEY_H
#define UKEY_UKEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Error codes. Values are stable; new ones are only appended. */
enum ukey_error {
	UKEY_OK = 0,
	UKEY_E_INVALID_ARGUMENT = 1, /**< a NULL handle, an empty serial, ... */
	UKEY_E_NO_MEMORY = 2,
	UKEY_E_UNREACHABLE = 3,	   /**< cannot connect to ukeyd */
	UKEY_E_DISCONNECTED = 4,   /**< ukeyd closed the connection */
	UKEY_E_PROTOCOL = 5,	   /**< ukeyd sent something libukey cannot read */
	UKEY_E_VERSION = 6,	   /**< ukeyd speaks another protocol version */
	UKEY_E_TIMEOUT = 7,	   /**< ukeyd did not answer in time */
	UKEY_E_NOT_FOUND = 8,	   /**< no plugged token has that serial */
	UKEY_E_DAEMON = 9,	   /**< ukeyd failed the request */
	UKEY_E_REFUSED = 10,	   /**< ukeyd refused the request as malformed */
	UKEY_E_PIN_INCORRECT = 11, /**< wrong PIN: one try was spent */
	UKEY_E_PIN_LOCKED = 12,	   /**< the PIN is locked; the CA counter can unlock it */
	UKEY_E_PIN_POLICY = 13, /**< the new PIN is refused; see ukey_client_get_error_reason() */
	UKEY_E_LOCKOUT_GUARD = 14, /**< not attempted: it could lock the token (UKEY_PIN_FORCE) */
	UKEY_E_PERMISSION = 15,	   /**< only root or the admin group may do this */
	UKEY_E_TOKEN_REMOVED = 16, /**< the token was pulled out */
	UKEY_E_TOKEN = 17,	   /**< the token failed the operation */
	UKEY_E_BUSY = 18,    /**< ukeyd is overloaded (too many connections, from this user or in
			      * all) or still reading the tokens: not "not running"; retry later */
	UKEY_E_NOT_CMS = 19, /**< the bid file is not a CMS/PKCS#7 encrypted file */
	UKEY_E_AUDIT = 20,   /**< the audit log cannot be written (or read): the PIN operation
			      * was not tried; ukey_client_get_error_reason() says why */
	UKEY_E_RETRY_LATER = 21, /**< a PIN was wrong lately: wait before the next try on this
				  * token (ukey_client_get_retry_after()) */
};

/**
 * ukey_strerror - a short English description of an error code.
 * Never returns NULL; unknown codes give "unknown error".
 * Thread safety: safe from any thread.
 */
const char *ukey_strerror(enum ukey_error err);

/** State of a PIN as the token reports it (PKCS#11 token flags; on SKF
 * tokens, from the exact tries left: ukey_token_get_pin_tries()). */
enum ukey_pin_state {
	UKEY_PIN_OK = 0,
	UKEY_PIN_COUNT_LOW = 1, /**< a wrong PIN was entered since the last success */
	UKEY_PIN_FINAL_TRY = 2, /**< one more wrong PIN locks it */
	UKEY_PIN_LOCKED = 3,
};

/**
 * ukey_pin_state_to_string - "ok", "count_low", "final_try" or "locked",
 * the names used in the JSON contract.
 * Thread safety: safe from any thread.
 */
const char *ukey_pin_state_to_string(enum ukey_pin_state state);

/** A certificate's usage class, from its key usage extension. */
enum ukey_cert_usage {
	UKEY_CERT_USAGE_UNKNOWN = 0, /**< no key usage extension, or neither kind */
	UKEY_CERT_USAGE_SIGN = 1,    /**< digitalSignature / nonRepudiation */
	UKEY_CERT_USAGE_ENCRYPT = 2, /**< keyEncipherment / dataEncipherment / keyAgreement */
	UKEY_CERT_USAGE_SIGN_ENCRYPT = 3,
};

/** Where a certificate stands in its life, as of the daemon's answer. */
enum ukey_cert_expiry {
	UKEY_CERT_VALID = 0,
	UKEY_CERT_RENEWAL_WINDOW = 1, /**< within the CA's renewal window: renew now */
	UKEY_CERT_EXPIRED = 2,	      /**< cannot sign or decrypt any more */
	UKEY_CERT_NOT_YET_VALID = 3,
	UKEY_CERT_MALFORMED = 4, /**< the object is not a readable certificate */
};

/** Whether the token holds a certificate's key pair, as seen without the
 * PIN. Many tokens hide their private keys until the PIN is given. */
enum ukey_key_pair {
	UKEY_KEY_PAIR_ABSENT = 0,  /**< the token shows its keys, and this one is not among them */
	UKEY_KEY_PAIR_PRESENT = 1, /**< a key object of the token is this certificate's pair */
	UKEY_KEY_PAIR_UNKNOWN =
		2, /**< private keys hidden, no public half to match: check --full */
};

/** Who holds a token: a unit (单位) or a person (个人). */
enum ukey_holder_kind {
	UKEY_HOLDER_UNKNOWN = 0,
	UKEY_HOLDER_UNIT = 1,
	UKEY_HOLDER_PERSON = 2,
};

/** A token's role: the primary (主锁) carries the electronic seal, a
 * secondary (副锁) has none but otherwise works the same. */
enum ukey_role {
	UKEY_ROLE_UNKNOWN = 0, /**< a blank token */
	UKEY_ROLE_PRIMARY = 1,
	UKEY_ROLE_SECONDARY = 2,
};

/** What an electronic seal is for. */
enum ukey_seal_kind {
	UKEY_SEAL_OTHER = 0,
	UKEY_SEAL_OFFICIAL = 1,	 /**< 单位公章 */
	UKEY_SEAL_LEGAL_REP = 2, /**< 法人章 */
	UKEY_SEAL_SIGNATURE = 3, /**< 手写签名 */
};

/** A seal's state, from the first check that fails (GM/T 0031 order). */
enum ukey_seal_status {
	UKEY_SEAL_VALID = 0,
	UKEY_SEAL_EXPIRED = 1,
	UKEY_SEAL_NOT_YET_VALID = 2,
	UKEY_SEAL_BAD_SIGNATURE = 3,
	UKEY_SEAL_MAKER_CERT_EXPIRED = 4, /**< maker certificate not valid at creation */
	UKEY_SEAL_NOT_BOUND = 5,	  /**< the token's certificate is not its signer */
	UKEY_SEAL_MALFORMED = 6,
};

/** The answer to "ready to bid?". */
enum ukey_verdict {
	UKEY_READY = 0,
	UKEY_READY_WITH_WARNINGS = 1,
	UKEY_NOT_READY = 2,
};

enum ukey_severity {
	UKEY_SEVERITY_INFO = 0,
	UKEY_SEVERITY_WARNING = 1,
	UKEY_SEVERITY_ERROR = 2,
};

/** What happened, as told by ukey_client_dispatch(). */
enum ukey_event_type {
	UKEY_EVENT_TOKEN_ADDED = 1,   /**< a token appeared (ukey_event_get_token()) */
	UKEY_EVENT_TOKEN_REMOVED = 2, /**< it was pulled out: stop using it */
	UKEY_EVENT_TOKEN_CHANGED = 3, /**< PIN state, certificates or seals changed */
	UKEY_EVENT_CERT_EXPIRY = 4,   /**< a certificate crossed 30, 7, 3, 1 or 0 days left */
	UKEY_EVENT_DISCONNECTED = 5,  /**< ukeyd went away; the fd wakes to retry */
	UKEY_EVENT_RECONNECTED = 6,   /**< ukeyd is back: re-read the tokens */
};

typedef struct ukey_client ukey_client;
typedef struct ukey_token_list ukey_token_list;
typedef struct ukey_token ukey_token;
typedef struct ukey_cert ukey_cert;
typedef struct ukey_object ukey_object;
typedef struct ukey_seal ukey_seal;
typedef struct ukey_check_report ukey_check_report;
typedef struct ukey_check_item ukey_check_item;
typedef struct ukey_event ukey_event;

/** Called by ukey_client_dispatch() for each event; @event is valid
 * during the call only. */
typedef void (*ukey_event_fn)(ukey_client *client, const ukey_event *event, void *userdata);

/* ---------------------------------------------------------------- client */

/**
 * ukey_client_new - connect to ukeyd and complete the version handshake.
 * @socket_path: the daemon's socket; NULL means $UKEY_SOCKET, else
 *               /run/ukey/ukeyd.sock.
 * @ret_client:  the new client, with one reference.
 *
 * Returns UKEY_OK, UKEY_E_UNREACHABLE when nothing listens there,
 * UKEY_E_VERSION when the daemon speaks an incompatible protocol.
 * Thread safety: safe from any thread; the new client then belongs to
 * the calling thread.
 */
enum ukey_error ukey_client_new(const char *socket_path, ukey_client **ret_client);

/** ukey_client_ref - add a reference. Thread safety: see ukey_client. */
ukey_client *ukey_client_ref(ukey_client *client);

/**
 * ukey_client_unref - drop a reference; the last one closes the
 * connection. Returns NULL. Thread safety: see ukey_client.
 */
ukey_client *ukey_client_unref(ukey_client *client);

/**
 * ukey_client_set_timeout - how long a request may wait for its answer.
 * @timeout_ms: milliseconds; 0 waits forever. The default is 60000,
 *              enough for a refresh of slow tokens.
 * Thread safety: not thread safe (the client's thread).
 */
void ukey_client_set_timeout(ukey_client *client, unsigned timeout_ms);

/**
 * ukey_client_get_daemon_version - the version string ukeyd gave in the
 * handshake, e.g. "0.1.0". Valid while the client lives.
 * Thread safety: not thread safe (the client's thread).
 */
const char *ukey_client_get_daemon_version(ukey_client *client);

/**
 * ukey_client_list_tokens - every token ukeyd currently knows, from its
 * cache (no token is touched). Answered at once, also while ukeyd still
 * reads the tokens after it started: then the list holds those read so
 * far and ukey_token_list_is_scanning() says so. Asked again with nothing
 * changed, it costs one small round trip and returns the same list
 * (another reference to it).
 * Thread safety: not thread safe (the client's thread).
 */
enum ukey_error ukey_client_list_tokens(ukey_client *client, ukey_token_list **ret_list);

/**
 * ukey_client_get_token - one token by serial number.
 * Returns UKEY_E_NOT_FOUND when no plugged token has that serial.
 * Thread safety: not thread safe (the client's thread).
 */
enum ukey_error ukey_client_get_token(ukey_client *client, const char *serial,
				      ukey_token **ret_token);

/**
 * ukey_client_get_token_with_pin - one token, with its private data
 * objects read too: ukeyd logs in once with @pin (the lockout guard
 * applies: UKEY_PIN_FORCE to spend a final try), reads them, logs out.
 * Seals found among them are in the snapshot (their data never enters
 * ukeyd's cache). Errors as ukey_client_change_pin().
 * Thread safety: not thread safe (the client's thread).
 */
enum ukey_error ukey_client_get_token_with_pin(ukey_client *client, const char *serial,
					       const char *pin, unsigned flags,
					       ukey_token **ret_token);

/**
 * ukey_client_refresh - ask ukeyd to re-read every token, and wait until
 * it has. Use it after changing a token with another program.
 * Thread safety: not thread safe (the client's thread).
 */
enum ukey_error ukey_client_refresh(ukey_client *client);

/* ------------------------------------------------------------ token list */

/** Thread safety: safe from any thread. */
ukey_token_list *ukey_token_list_ref(ukey_token_list *list);
/** Thread safety: safe from any thread. Returns NULL. */
ukey_token_list *ukey_token_list_unref(ukey_token_list *list);
/** Number of tokens. Thread safety: safe from any thread. */
size_t ukey_token_list_get_count(const ukey_token_list *list);
/**
 * ukey_token_list_is_scanning - true while ukeyd has not yet read every
 * token after it started: tokens may still be added to the list. Ask
 * again, or subscribe for token_added events.
 * Thread safety: safe from any thread.
 */
bool ukey_token_list_is_scanning(const ukey_token_list *list);
/**
 * ukey_token_list_get - the token at @index (borrowed: valid while the
 * list lives; ukey_token_ref() it to keep it longer), or NULL past the end.
 * Thread safety: safe from any thread.
 */
ukey_token *ukey_token_list_get(const ukey_token_list *list, size_t index);

/**
 * ukey_client_get_seal_picture - the picture of the token's seal @index
 * (as in ukey_token_get_seal()), exactly as stored in the seal: PNG, JPG,
 * GIF, BMP or OFD (ukey_seal_get_picture_type()). *ret_data is malloc'ed;
 * free() it. Thread safety: not thread safe (the client's thread).
 */
enum ukey_error ukey_client_get_seal_picture(ukey_client *client, const char *serial, size_t index,
					     uint8_t **ret_data, size_t *ret_len);

/* ---------------------------------------------------------------- events */

/**
 * ukey_client_subscribe - have ukeyd tell this client of tokens added,
 * removed and changed, and of certificate expiry, through @fn. Plug the
 * client into your loop: poll ukey_client_get_fd() for input and call
 * ukey_client_dispatch() whenever it is readable. That is all: the fd
 * also wakes for events that arrived while one of your own requests
 * waited for its reply, and, when ukeyd restarts, dispatch reports
 * UKEY_EVENT_DISCONNECTED, the fd wakes by itself to retry, and dispatch
 * reports UKEY_EVENT_RECONNECTED once ukeyd is back.
 * Thread safety: not thread safe (the client's thread).
 */
enum ukey_error ukey_client_subscribe(ukey_client *client, ukey_event_fn fn, void *userdata);

/**
 * ukey_client_get_fd - the fd to poll for input (POLLIN), the same for the
 * client's whole life, whether ukeyd is there or not (an epoll fd: do not
 * read it, call ukey_client_dispatch()). Never -1 for a client.
 * Thread safety: the client's thread.
 */
int ukey_client_get_fd(ukey_client *client);

/**
 * ukey_client_dispatch - deliver the queued events and those waiting on
 * the socket, without blocking; reconnect when ukeyd is gone. Returns
 * UKEY_OK, or UKEY_E_DISCONNECTED while ukeyd cannot be reached.
 * Thread safety: not thread safe (the client's thread).
 */
enum ukey_error ukey_client_dispatch(ukey_client *client);

/** Thread safety: any thread (during the callback). */
enum ukey_event_type ukey_event_get_type(const ukey_event *event);
/** The token's serial ("" for (dis)connection events). */
const char *ukey_event_get_serial(const ukey_event *event);
/** For added and changed tokens: the token as it is now (borrowed;
 * ukey_token_ref() it to keep it), else NULL. */
ukey_token *ukey_event_get_token(const ukey_event *event);
/** The event as ukeyd sent it, JSON (docs/protocol.md). */
const char *ukey_event_get_json(const ukey_event *event);

/* ----------------------------------------------------------------- check */

/**
 * ukey_check - is a token ready to bid with? Checks every plugged token, or
 * the one with @serial: certificates (expired, in the renewal window, or
 * ending before @opening, the bid opening's Unix time, 0 for none), the
 * PIN (locked, tries left, still the default), the seal (missing, invalid,
 * not bound; a secondary cannot affix it), the keys. With @bid (an
 * encrypted bid file, CMS EnvelopedData in DER, PEM or S/MIME; @bid_len
 * bytes) it also says whether the bid was encrypted for each token; the
 * file is read here, only its recipients go to ukeyd. @pin (else NULL)
 * asks for the full test: a signature and a decryption with the token's
 * keys (one login, the lockout guard applies: UKEY_PIN_FORCE in @flags).
 * Returns UKEY_E_NOT_CMS when @bid is not such a file.
 * Thread safety: not thread safe (the client's thread).
 */
enum ukey_error ukey_check(ukey_client *client, const char *serial, int64_t opening,
			   const uint8_t *bid, size_t bid_len, const char *pin, unsigned flags,
			   ukey_check_report **ret_report);

/** Thread safety: safe from any thread. */
ukey_check_report *ukey_check_report_ref(ukey_check_report *report);
/** Thread safety: safe from any thread. Returns NULL. */
ukey_check_report *ukey_check_report_unref(ukey_check_report *report);
/** The worst verdict of all tokens checked. Thread safety: any thread. */
enum ukey_verdict ukey_check_report_get_verdict(const ukey_check_report *report);
/** The tokens checked, each with its own verdict. Thread safety: any thread. */
size_t ukey_check_report_get_token_count(const ukey_check_report *report);
const char *ukey_check_report_get_token_serial(const ukey_check_report *report, size_t index);
const char *ukey_check_report_get_token_label(const ukey_check_report *report, size_t index);
enum ukey_verdict ukey_check_report_get_token_verdict(const ukey_check_report *report,
						      size_t index);
/** All items, token by token. Thread safety: safe from any thread. */
size_t ukey_check_report_get_item_count(const ukey_check_report *report);
const ukey_check_item *ukey_check_report_get_item(const ukey_check_report *report, size_t index);
/** The report as JSON (what `ukeyctl check --json` prints). Thread safety: any thread. */
const char *ukey_check_report_get_json(const ukey_check_report *report);

/**
 * An item: a stable code ("cert_expired", "pin_default", "seal_not_bound",
 * ... docs/protocol.md lists them), its severity, the token's serial, and
 * a message and advice in the language of the process's locale (Chinese
 * for zh_*, else English), from libukey's translations.
 * Thread safety: safe from any thread.
 */
const char *ukey_check_item_get_code(const ukey_check_item *item);
enum ukey_severity ukey_check_item_get_severity(const ukey_check_item *item);
const char *ukey_check_item_get_serial(const ukey_check_item *item);
const char *ukey_check_item_get_message(const ukey_check_item *item);
const char *ukey_check_item_get_advice(const ukey_check_item *item);

/* ------------------------------------------------------------------- PIN */

/** Flags of the PIN operations. */
enum ukey_pin_flags {
	/**
	 * Spend the final try. Without it, ukeyd refuses (UKEY_E_LOCKOUT_GUARD)
	 * a login that would lock the token if the PIN were wrong. For the SO
	 * PIN a wrong final try makes the token unusable for good.
	 */
	UKEY_PIN_FORCE = 1 << 0,
};

/**
 * ukey_client_change_pin - change the user PIN (bidders): one login with
 * @old_pin, then C_SetPIN. The new PIN must pass ukeyd's PIN policy
 * (not the CA default 123456, not the old PIN, not one character
 * repeated, not a run like 123456 or 654321, at least 6 characters and
 * the token's minimum, at most its maximum); a refusal leaves the token
 * untouched. ukeyd never retries a failed login.
 * Returns UKEY_OK, UKEY_E_PIN_INCORRECT, UKEY_E_PIN_LOCKED,
 * UKEY_E_PIN_POLICY, UKEY_E_LOCKOUT_GUARD, UKEY_E_NOT_FOUND,
 * UKEY_E_TOKEN_REMOVED, ... libukey wipes its copies of the PINs; the
 * caller wipes its own.
 * Thread safety: not thread safe (the client's thread).
 */
enum ukey_error ukey_client_change_pin(ukey_client *client, const char *serial, const char *old_pin,
				       const char *new_pin, unsigned flags);

/**
 * ukey_client_unlock_pin - counter unlock (解锁): SO login on a
 * read-write session with @so_pin, then C_InitPIN. The user PIN becomes
 * @new_pin (which must pass the PIN policy), or the CA's default PIN when
 * @new_pin is NULL. Needs root or the admin group (UKEY_E_PERMISSION);
 * every attempt and refusal is audited.
 * Thread safety: not thread safe (the client's thread).
 */
enum ukey_error ukey_client_unlock_pin(ukey_client *client, const char *serial, const char *so_pin,
				       const char *new_pin, unsigned flags);

/**
 * ukey_client_probe_default_pin - find out, by logging in with it, whether
 * the user PIN is still the CA's default. A wrong guess costs one try, so
 * ukeyd refuses (UKEY_E_LOCKOUT_GUARD) while any try has failed. On
 * UKEY_OK *ret_is_default is true; on UKEY_E_PIN_INCORRECT the PIN is not
 * the default (and *ret_is_default is untouched).
 * Thread safety: not thread safe (the client's thread).
 */
enum ukey_error ukey_client_probe_default_pin(ukey_client *client, const char *serial,
					      bool *ret_is_default);

/**
 * ukey_client_get_error_reason - why the last request failed, in a word
 * when ukeyd gave one: for UKEY_E_PIN_POLICY "too_short", "too_long",
 * "default", "same_as_old", "repeated" or "sequence" (ukeyd's policy), or
 * "token_refused" (the token would not take a PIN of that length or those
 * characters, the current or the new one; no try was spent); for UKEY_E_AUDIT
 * the system's words for what keeps the log from being written ("No space
 * left on device"); for UKEY_E_PERMISSION "pin_users" (PIN operations
 * are for root, the admin group and the users ukeyd's pin_users names)
 * or "force" (the final try is for the admin group and the user of the
 * active local session). NULL otherwise.
 * Valid until the next request. Thread safety: the client's thread.
 */
const char *ukey_client_get_error_reason(ukey_client *client);

/**
 * ukey_client_get_error_tries_left - after a failed PIN request
 * (UKEY_E_PIN_INCORRECT, UKEY_E_PIN_LOCKED, UKEY_E_LOCKOUT_GUARD), the
 * tries left of the PIN that was tried, as the token counts them; -1 when
 * ukeyd did not say (PKCS#11 tokens only tell a state). Valid until the
 * next request. Thread safety: the client's thread.
 */
int ukey_client_get_error_tries_left(ukey_client *client);

/**
 * ukey_client_get_retry_after - after UKEY_E_RETRY_LATER (or UKEY_E_BUSY
 * when ukeyd said), the seconds to wait before trying again; 0 otherwise.
 * Valid until the next request. Thread safety: the client's thread.
 */
unsigned ukey_client_get_retry_after(ukey_client *client);

/**
 * ukey_client_get_audit - the audit log of PIN operations since @since
 * (Unix time; 0 for all), as a JSON array of objects with "seq", "time",
 * "uid", "pid", "program", "serial", "operation", "result" and, for
 * refusals counted together, "count" (docs/protocol.md). A PIN operation
 * has two entries: "started" before the token is touched, then its
 * outcome. Needs root or the admin group. Reads the whole log a page at a
 * time: for a long one, ukey_client_get_audit_page(). *ret_json is
 * malloc'ed; free() it. UKEY_E_AUDIT when the log cannot be read.
 * Thread safety: not thread safe (the client's thread).
 */
enum ukey_error ukey_client_get_audit(ukey_client *client, int64_t since, char **ret_json);

/**
 * ukey_client_get_audit_page - one page of the audit log: at most @limit
 * (1 to 1000) entries at or after @since with a "seq" above @after,
 * oldest first, as a JSON array in *ret_json (malloc'ed; free() it). For
 * the next page, pass *ret_next as @after; *ret_more says whether there
 * is one. Needs root or the admin group.
 * Thread safety: not thread safe (the client's thread).
 */
enum ukey_error ukey_client_get_audit_page(ukey_client *client, int64_t since, uint64_t after,
					   unsigned limit, char **ret_json, uint64_t *ret_next,
					   bool *ret_more);

/* ----------------------------------------------------------------- token */

/** Thread safety: safe from any thread. */
ukey_token *ukey_token_ref(ukey_token *token);
/** Thread safety: safe from any thread. Returns NULL. */
ukey_token *ukey_token_unref(ukey_token *token);

/**
 * Text fields as the token reports them, padding trimmed, in UTF-8 (a
 * label in GB18030 is converted). Never NULL; "" when the token gives
 * nothing. Thread safety: safe from any thread.
 */
const char *ukey_token_get_serial(const ukey_token *token);
const char *ukey_token_get_label(const ukey_token *token);
const char *ukey_token_get_manufacturer(const ukey_token *token);
const char *ukey_token_get_model(const ukey_token *token);
/** Path of the library (PKCS#11 module or SKF library) that reaches the
 * token. Thread safety: any thread. */
const char *ukey_token_get_module(const ukey_token *token);
/**
 * The kind of library that reaches the token: "pkcs11" or "skf" (GM/T
 * 0016); "" from a ukeyd older than SKF support. Thread safety: any thread.
 */
const char *ukey_token_get_backend(const ukey_token *token);
/** False for a blank token that has never been initialized. Thread safety: any thread. */
bool ukey_token_is_initialized(const ukey_token *token);
/** Thread safety: safe from any thread. */
enum ukey_pin_state ukey_token_get_user_pin_state(const ukey_token *token);
/** Thread safety: safe from any thread. */
enum ukey_pin_state ukey_token_get_so_pin_state(const ukey_token *token);
/**
 * Whether the user PIN is still the CA's default (123456): 1 yes, 0 no,
 * -1 unknown. An SKF token says it itself (its default-PIN flag: set until
 * the PIN is first changed, and again after an unlock). PKCS#11 cannot
 * tell; for those tokens this is what ukeyd saw (a PIN given for an
 * operation, a change or unlock it made, a probe).
 * Thread safety: safe from any thread.
 */
int ukey_token_get_pin_is_default(const ukey_token *token);
/**
 * ukey_token_get_pin_tries - the tries left and allowed of the user PIN,
 * or with @so of the SO (admin) PIN, where the token tells them (SKF
 * tokens do; PKCS#11 tokens only have the states above). Returns true and
 * writes *ret_left and *ret_max (either may be NULL), or false.
 * Thread safety: safe from any thread.
 */
bool ukey_token_get_pin_tries(const ukey_token *token, bool so, int *ret_left, int *ret_max);
/** PIN length limits the token accepts. Thread safety: safe from any thread. */
unsigned long ukey_token_get_pin_min_len(const ukey_token *token);
unsigned long ukey_token_get_pin_max_len(const ukey_token *token);

/**
 * The holder, named by the token's signing certificate: a unit or a
 * person, its name, and the unit's unified social credit code (NULL when
 * no certificate carries one with a valid check digit). A person's ID
 * number is only ever given masked (ukey_token_get_holder_id_masked(),
 * NULL when none). Thread safety: safe from any thread.
 */
enum ukey_holder_kind ukey_token_get_holder_kind(const ukey_token *token);
const char *ukey_token_get_holder_name(const ukey_token *token);
const char *ukey_token_get_holder_credit_code(const ukey_token *token);
const char *ukey_token_get_holder_id_masked(const ukey_token *token);

/**
 * The CA of the token's signing certificate: a profile id ("guoxin",
 * "bjca", ..., "unknown"; NULL when the token has no certificate) and its
 * display name, Chinese when @language starts with "zh", else English.
 * Thread safety: safe from any thread.
 */
const char *ukey_token_get_ca(const ukey_token *token);
const char *ukey_token_get_ca_name(const ukey_token *token, const char *language);

/**
 * The token's role. A token once seen with a seal that shows none now is
 * still UKEY_ROLE_PRIMARY, with ukey_token_is_seal_missing() true.
 * ukey_token_is_seal_usable() is true when at least one seal is valid.
 * Thread safety: safe from any thread.
 */
enum ukey_role ukey_token_get_role(const ukey_token *token);
bool ukey_token_is_seal_missing(const ukey_token *token);
bool ukey_token_is_seal_usable(const ukey_token *token);
/** Number of seals (data objects that are SESeals). Thread safety: any thread. */
size_t ukey_token_get_seal_count(const ukey_token *token);
/** The seal at @index (borrowed), or NULL. Thread safety: any thread. */
const ukey_seal *ukey_token_get_seal(const ukey_token *token, size_t index);

/** Number of certificate objects. Thread safety: safe from any thread. */
size_t ukey_token_get_cert_count(const ukey_token *token);
/** The certificate at @index (borrowed), or NULL. Thread safety: any thread. */
const ukey_cert *ukey_token_get_cert(const ukey_token *token, size_t index);
/** Number of public data objects. Thread safety: safe from any thread. */
size_t ukey_token_get_object_count(const ukey_token *token);
/** The data object at @index (borrowed), or NULL. Thread safety: any thread. */
const ukey_object *ukey_token_get_object(const ukey_token *token, size_t index);

/**
 * ukey_token_get_json - the token as one JSON object, exactly the shape
 * `ukeyctl status --json` prints (docs/protocol.md). For callers in other
 * languages, and for fields newer than this header.
 * Thread safety: safe from any thread.
 */
const char *ukey_token_get_json(const ukey_token *token);

/* ----------------------------------------------------------- certificate */

/** CKA_ID in lower-case hex. Thread safety: safe from any thread. */
const char *ukey_cert_get_id(const ukey_cert *cert);
/** CKA_LABEL. Thread safety: safe from any thread. */
const char *ukey_cert_get_label(const ukey_cert *cert);
/** SHA-256 of the certificate's DER, lower-case hex. Thread safety: any thread. */
const char *ukey_cert_get_sha256(const ukey_cert *cert);

/**
 * What the certificate says. Names are one line in certificate order,
 * UTF-8 ("C=CN, O=..., CN=..."); the serial is lower-case hex. All are ""
 * for a malformed certificate. Thread safety: safe from any thread.
 */
const char *ukey_cert_get_subject(const ukey_cert *cert);
const char *ukey_cert_get_issuer(const ukey_cert *cert);
const char *ukey_cert_get_serial(const ukey_cert *cert);
/** Validity bounds, Unix time (0 when malformed). Thread safety: any thread. */
int64_t ukey_cert_get_not_before(const ukey_cert *cert);
int64_t ukey_cert_get_not_after(const ukey_cert *cert);
/**
 * Whole days left when ukeyd answered, rounded down: 0 on the last day,
 * negative once expired. Re-query to refresh it. Thread safety: any thread.
 */
int64_t ukey_cert_get_days_left(const ukey_cert *cert);
/** Thread safety: safe from any thread. */
enum ukey_cert_expiry ukey_cert_get_expiry(const ukey_cert *cert);
/** The CA's renewal window in days. Thread safety: safe from any thread. */
unsigned ukey_cert_get_renewal_days(const ukey_cert *cert);
/** Thread safety: safe from any thread. */
enum ukey_cert_usage ukey_cert_get_usage(const ukey_cert *cert);
/** "rsa", "ec", "sm2" or "unknown". Thread safety: safe from any thread. */
const char *ukey_cert_get_key_type(const ukey_cert *cert);
/** Thread safety: safe from any thread. */
unsigned ukey_cert_get_key_bits(const ukey_cert *cert);
/**
 * Whether the token holds the certificate's key pair: a key object with
 * the certificate's CKA_ID whose public part, where the token shows it,
 * is the certificate's key. False also when it cannot be seen without the
 * PIN: ukey_cert_get_key_pair() tells that apart.
 * Thread safety: safe from any thread.
 */
bool ukey_cert_has_private_key(const ukey_cert *cert);
/**
 * ukey_cert_get_key_pair - present, absent, or unknown: the token hides
 * its private keys until the PIN is given and shows no public half to
 * match (the full check, ukey_check() with the PIN, settles it).
 * Thread safety: safe from any thread.
 */
enum ukey_key_pair ukey_cert_get_key_pair(const ukey_cert *cert);
/** The issuing CA's profile id, and its display name (see
 * ukey_token_get_ca_name()). Thread safety: safe from any thread. */
const char *ukey_cert_get_ca(const ukey_cert *cert);
const char *ukey_cert_get_ca_name(const ukey_cert *cert, const char *language);

/* ------------------------------------------------------------------ seal */

/**
 * What a seal says. A malformed seal has only its status and object label;
 * the rest is "" or 0. Times are Unix time. Thread safety: any thread.
 */
enum ukey_seal_status ukey_seal_get_status(const ukey_seal *seal);
enum ukey_seal_kind ukey_seal_get_kind(const ukey_seal *seal);
const char *ukey_seal_get_name(const ukey_seal *seal);
const char *ukey_seal_get_esid(const ukey_seal *seal);
/** Layout: 1 (GM/T 0031), 4 (GB/T 38540), 5 (with a time stamp). */
int ukey_seal_get_version(const ukey_seal *seal);
long ukey_seal_get_type(const ukey_seal *seal);
const char *ukey_seal_get_vendor(const ukey_seal *seal);
int64_t ukey_seal_get_valid_from(const ukey_seal *seal);
int64_t ukey_seal_get_valid_to(const ukey_seal *seal);
/** "png", "jpg", "gif", "bmp", "ofd", ... */
const char *ukey_seal_get_picture_type(const ukey_seal *seal);
size_t ukey_seal_get_picture_size(const ukey_seal *seal);
/** The CKA_LABEL of the data object holding the seal. */
const char *ukey_seal_get_object_label(const ukey_seal *seal);
/** Whether the seal is in a private object (read with the caller's PIN). */
bool ukey_seal_is_private(const ukey_seal *seal);

/* ----------------------------------------------------------- data object */

/** CKA_LABEL. Thread safety: safe from any thread. */
const char *ukey_object_get_label(const ukey_object *object);
/** CKA_APPLICATION. Thread safety: safe from any thread. */
const char *ukey_object_get_application(const ukey_object *object);
/** Size of CKA_VALUE in bytes. Thread safety: safe from any thread. */
size_t ukey_object_get_size(const ukey_object *object);

#ifdef __cplusplus
}
#endif

#endif /* UKEY_UKEY_H */
