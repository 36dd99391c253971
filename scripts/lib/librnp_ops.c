/* What each librnp operation of an encrypted notice costs on one core, to know the ceiling of
 * Herald's encrypted fan-out before looking at Herald's own share. N Ed25519 + Curve25519 keys
 * are made, then, for a 2 KiB text, timed per key or per message:
 *   reading a public key (armored, into a keyring: parsing and checking its self-signatures),
 *   encrypting to a loaded key, signing (Ed25519), encrypting and signing,
 *   reading the key + encrypting + signing + unloading it (what a fan-out to keys used once costs),
 * and what a keyring holding N keys adds to the process's resident memory.
 *
 *   gcc -O2 -o /tmp/librnp_ops scripts/lib/librnp_ops.c -lrnp && /tmp/librnp_ops 2000
 */
#include <rnp/rnp.h>
#include <rnp/rnp_err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHECK(call)                                                             \
    do {                                                                        \
        rnp_result_t r_ = (call);                                               \
        if (r_ != RNP_SUCCESS) {                                                \
            fprintf(stderr, "%s: %s\n", #call, rnp_result_to_string(r_));       \
            exit(1);                                                            \
        }                                                                       \
    } while (0)

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static long resident_kib(void) {
    long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f && fscanf(f, "%ld %ld", &size, &resident) != 2) resident = 0;
    if (f) fclose(f);
    return resident * 4;
}

static char text[2048];

/* A new key in `ffi`, exported armored (public, or with its secret); its fingerprint in `fpr`. */
static char *make_key(rnp_ffi_t ffi, long i, char fpr[41], int secret, size_t *length) {
    char json[512];
    snprintf(json, sizeof json,
             "{\"primary\":{\"type\":\"EDDSA\",\"userid\":\"Org %ld <c%ld@org.example>\",\"usage\":[\"sign\",\"certify\"]},"
             "\"sub\":{\"type\":\"ECDH\",\"curve\":\"Curve25519\",\"usage\":[\"encrypt\"]}}",
             i, i);
    char *results;
    CHECK(rnp_generate_key_json(ffi, json, &results));
    char *grip = strstr(results, "\"grip\":\"") + 8;
    *strchr(grip, '"') = 0;
    rnp_key_handle_t key;
    CHECK(rnp_locate_key(ffi, "grip", grip, &key));
    char *fingerprint;
    CHECK(rnp_key_get_fprint(key, &fingerprint));
    strcpy(fpr, fingerprint);
    rnp_output_t output;
    CHECK(rnp_output_to_memory(&output, 0));
    CHECK(rnp_key_export(key, output,
                         RNP_KEY_EXPORT_ARMORED | RNP_KEY_EXPORT_SUBKEYS |
                             (secret ? RNP_KEY_EXPORT_SECRET : RNP_KEY_EXPORT_PUBLIC)));
    uint8_t *bytes;
    CHECK(rnp_output_memory_get_buf(output, &bytes, length, true));
    rnp_output_destroy(output);
    rnp_buffer_destroy(fingerprint);
    rnp_buffer_destroy(results);
    rnp_key_handle_destroy(key);
    return (char *) bytes;
}

static void load(rnp_ffi_t ffi, const char *bytes, size_t length) {
    rnp_input_t input;
    CHECK(rnp_input_from_memory(&input, (const uint8_t *) bytes, length, false));
    CHECK(rnp_import_keys(ffi, input, RNP_LOAD_SAVE_PUBLIC_KEYS | RNP_LOAD_SAVE_SECRET_KEYS, NULL));
    rnp_input_destroy(input);
}

/* Herald's settings: AES-256, no compression, SHA-256, armored. */
static void encrypt(rnp_ffi_t ffi, rnp_key_handle_t recipient, rnp_key_handle_t signer) {
    rnp_input_t input;
    rnp_output_t output;
    CHECK(rnp_input_from_memory(&input, (const uint8_t *) text, sizeof text, false));
    CHECK(rnp_output_to_memory(&output, 0));
    rnp_op_encrypt_t op;
    CHECK(rnp_op_encrypt_create(&op, ffi, input, output));
    CHECK(rnp_op_encrypt_add_recipient(op, recipient));
    if (signer) {
        CHECK(rnp_op_encrypt_add_signature(op, signer, NULL));
        CHECK(rnp_op_encrypt_set_hash(op, "SHA256"));
    }
    CHECK(rnp_op_encrypt_set_cipher(op, "AES256"));
    CHECK(rnp_op_encrypt_set_compression(op, "Uncompressed", 0));
    CHECK(rnp_op_encrypt_set_armor(op, true));
    CHECK(rnp_op_encrypt_execute(op));
    rnp_op_encrypt_destroy(op);
    rnp_output_destroy(output);
    rnp_input_destroy(input);
}

static void sign(rnp_ffi_t ffi, rnp_key_handle_t signer) {
    rnp_input_t input;
    rnp_output_t output;
    CHECK(rnp_input_from_memory(&input, (const uint8_t *) text, sizeof text, false));
    CHECK(rnp_output_to_memory(&output, 0));
    rnp_op_sign_t op;
    CHECK(rnp_op_sign_detached_create(&op, ffi, input, output));
    CHECK(rnp_op_sign_add_signature(op, signer, NULL));
    CHECK(rnp_op_sign_set_hash(op, "SHA256"));
    CHECK(rnp_op_sign_set_armor(op, true));
    CHECK(rnp_op_sign_execute(op));
    rnp_op_sign_destroy(op);
    rnp_output_destroy(output);
    rnp_input_destroy(input);
}

static rnp_ffi_t context_with_signer(const char *secret, size_t length, const char *fpr, rnp_key_handle_t *signer) {
    rnp_ffi_t ffi;
    CHECK(rnp_ffi_create(&ffi, "GPG", "GPG"));
    load(ffi, secret, length);
    CHECK(rnp_locate_key(ffi, "fingerprint", fpr, signer));
    return ffi;
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 0;
    if (n <= 0) {
        fprintf(stderr, "usage: librnp_ops N   (N keys, N messages per row)\n");
        return 2;
    }
    memset(text, 'x', sizeof text);
    char **keys = calloc(n, sizeof *keys);
    size_t *lengths = calloc(n, sizeof *lengths);
    char(*fprs)[41] = calloc(n, 41);
    rnp_key_handle_t *handles = calloc(n, sizeof *handles);
    /* Each key made in a context of its own: librnp's generation slows as a keyring grows. */
    for (long i = 0; i < n; i++) {
        rnp_ffi_t maker;
        CHECK(rnp_ffi_create(&maker, "GPG", "GPG"));
        keys[i] = make_key(maker, i, fprs[i], 0, &lengths[i]);
        rnp_ffi_destroy(maker);
    }
    rnp_ffi_t maker;
    CHECK(rnp_ffi_create(&maker, "GPG", "GPG"));
    char signer_fpr[41];
    size_t signer_length;
    char *signer_key = make_key(maker, -1, signer_fpr, 1, &signer_length);
    rnp_ffi_destroy(maker);
    printf("librnp %s, %ld keys (Ed25519 + Curve25519), a %zu-byte text, one core\n", rnp_version_string(), n,
           sizeof text);

    rnp_key_handle_t signer;
    rnp_ffi_t ffi = context_with_signer(signer_key, signer_length, signer_fpr, &signer);
    long before = resident_kib();
    double t = now();
    for (long i = 0; i < n; i++) load(ffi, keys[i], lengths[i]);
    double loading = (now() - t) * 1e6 / n;
    long grown = resident_kib() - before;
    printf("read a public key into a keyring growing to %ld keys: %7.1f us per key; resident memory +%ld KiB "
           "(%.1f KiB per key)\n", n, loading, grown, (double) grown / n);
    for (long i = 0; i < n; i++) CHECK(rnp_locate_key(ffi, "fingerprint", fprs[i], &handles[i]));
    t = now();
    for (long i = 0; i < n; i++) encrypt(ffi, handles[i], NULL);
    printf("encrypt to a loaded key:                        %7.1f us\n", (now() - t) * 1e6 / n);
    t = now();
    for (long i = 0; i < n; i++) sign(ffi, signer);
    printf("sign (detached, Ed25519):                       %7.1f us\n", (now() - t) * 1e6 / n);
    t = now();
    for (long i = 0; i < n; i++) encrypt(ffi, handles[i], signer);
    printf("encrypt and sign, key loaded:                   %7.1f us\n", (now() - t) * 1e6 / n);
    for (long i = 0; i < n; i++) rnp_key_handle_destroy(handles[i]);
    rnp_key_handle_destroy(signer);
    rnp_ffi_destroy(ffi);

    ffi = context_with_signer(signer_key, signer_length, signer_fpr, &signer);
    t = now();
    for (long i = 0; i < n; i++) {
        load(ffi, keys[i], lengths[i]);
        rnp_key_handle_t key;
        CHECK(rnp_locate_key(ffi, "fingerprint", fprs[i], &key));
        encrypt(ffi, key, signer);
        CHECK(rnp_key_remove(key, RNP_KEY_REMOVE_PUBLIC | RNP_KEY_REMOVE_SUBKEYS));
        rnp_key_handle_destroy(key);
    }
    double once = (now() - t) * 1e6 / n;
    printf("read, encrypt and sign, unload (key used once): %7.1f us = at most %.0f messages/s per core\n", once,
           1e6 / once);
    rnp_key_handle_destroy(signer);
    rnp_ffi_destroy(ffi);
    return 0;
}
